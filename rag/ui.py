"""What the chat UI shows, without Gradio: checked questions, streamed replies, the
sources panel, the status line, and the interface's fixed strings in two languages.

`ChatService` owns the open index. It opens it on the first question, and when the
indexer publishes a new generation it opens that one instead, so a rebuilt index is
noticed without a restart. Everything it returns is plain data or escaped text, so
that the Gradio layer (webapp.py) only wires components to these functions.

Article text is untrusted: whatever ends up in the page passes through `html.escape`
(sources panel) or `escape_markdown` (chat bubbles), so HTML, scripts, markdown images
and `javascript:` links inside articles are shown as text and never run or load.

Left out: layout and event wiring (webapp.py), answering (answer.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .answer import Answer, Assistant
from .citations import Citation
from .evidence import MAX_QUESTION_CHARS, check_question, question_language
from .articles import SUFFIXES
from .errors import BadQuestion, RagError
from .search import Filters
from .settings import Settings

LANGUAGES = ("auto", "id", "en")

TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "title": "Tanya berita",
        "subtitle": "Jawaban dari artikel berita, dengan kutipan yang bisa Anda periksa.",
        "placeholder": "Tulis pertanyaan tentang berita, dalam bahasa Indonesia atau Inggris",
        "send": "Kirim",
        "new_chat": "Obrolan baru",
        "examples": "Contoh pertanyaan",
        "filters": "Saring artikel",
        "since": "Sejak tanggal",
        "until": "Sampai tanggal",
        "date_hint": "mis. 2022-08-01",
        "outlet": "Media",
        "all_outlets": "Semua media",
        "language": "Bahasa antarmuka",
        "auto": "Otomatis",
        "sources": "Sumber",
        "no_sources": "Sumber jawaban akan tampil di sini.",
        "open_original": "buka artikel asli",
        "status": "{articles}, {chunks} · model embedding {embedder} · jawaban: {llm} · diindeks {built}",
        "n_articles": "{n} artikel",
        "n_chunks": "{n} potongan",
        "api": "Pakai lewat API",
        "bundled": "Model embedding: salinan 4-bit bawaan dari {requested} (model yang sama, tanpa unduhan).",
        "fallback": "⚠️ Model embedding {requested} tidak tersedia secara luring; indeks memakai cadangan {embedder}, "
                    "sehingga pencarian makna lebih lemah.",
        "no_index": "Belum ada indeks di {where}. Bangun dengan `rag index` (artikel dari `seeds/`), "
                    "lalu ajukan pertanyaan lagi.",
        "empty": "Pertanyaannya kosong. Tulis pertanyaan tentang berita.",
        "too_long": "Pertanyaannya {length} karakter; batasnya {limit}. Persingkat pertanyaan Anda.",
        "bad_date": "Tanggal {value!r} tidak dikenali (contoh: 2022-08-13 atau 13 Agustus 2022).",
        "error": "Terjadi kesalahan: {error}",
        "busy": "Server sedang penuh; coba lagi sebentar lagi.",
        "by": "oleh",
        "last_answer": "jawaban terakhir: {mode}",
        "mode_extractive": "kutipan langsung (tanpa model)",
        "mode_fallback": "kutipan langsung, cadangan karena {reason}",
    },
    "en": {
        "title": "Ask the news",
        "subtitle": "Answers from news articles, with quotes you can check.",
        "placeholder": "Ask a question about the news, in English or Indonesian",
        "send": "Send",
        "new_chat": "New chat",
        "examples": "Example questions",
        "filters": "Filter articles",
        "since": "From date",
        "until": "Until date",
        "date_hint": "e.g. 2022-08-01",
        "outlet": "Outlet",
        "all_outlets": "All outlets",
        "language": "Interface language",
        "auto": "Automatic",
        "sources": "Sources",
        "no_sources": "The sources of an answer appear here.",
        "open_original": "open the original",
        "status": "{articles}, {chunks} · embedder {embedder} · answers: {llm} · indexed {built}",
        "n_articles": "{n} article|{n} articles",
        "n_chunks": "{n} chunk|{n} chunks",
        "api": "Use via API",
        "bundled": "Embedder: the bundled 4-bit copy of {requested} (the same model, no download needed).",
        "fallback": "⚠️ The embedding model {requested} is not available offline; the index uses the fallback "
                    "{embedder}, so meaning-based search is weaker.",
        "no_index": "There is no index in {where} yet. Build it with `rag index` (articles from `seeds/`), "
                    "then ask again.",
        "empty": "The question is empty. Ask something about the news.",
        "too_long": "The question is {length} characters long; the limit is {limit}. Please shorten it.",
        "bad_date": "{value!r} is not a date I know (try 2022-08-13 or 13 August 2022).",
        "error": "Something went wrong: {error}",
        "busy": "The server is busy; please try again in a moment.",
        "by": "by",
        "last_answer": "last answer: {mode}",
        "mode_extractive": "direct quotes (no model)",
        "mode_fallback": "direct quotes, fallback because of {reason}",
    },
}

EXAMPLES: dict[str, tuple[str, ...]] = {
    "id": ("Apa yang dibahas Anies dengan Gubernur Tokyo?", "Kapan Anies pertama kali bertemu Gubernur Koike?",
           "Siapa yang ditemui Anies di Tokyo?"),
    "en": ("What did Anies Baswedan discuss in Tokyo?", "Who did the Jakarta governor meet in Japan?",
           "When did Anies first meet Governor Koike?"),
}
"""Example questions shown in each interface language (each can be asked in the other too)."""


def interface_language(choice: str, question: str = "") -> str:
    """`id` or `en`: the user's choice, or with `auto` the question's language (Indonesian
    when there is no question yet)."""
    if choice in ("id", "en"):
        return choice
    return question_language(question) if question.strip() else "id"


def text(language: str, key: str, **values: Any) -> str:
    return TEXTS[language if language in TEXTS else "id"][key].format(**values)


def counted(language: str, key: str, n: int, texts: dict[str, dict[str, str]] | None = None) -> str:
    """"1 article", "2 articles", "3.463 artikel": TEXTS[key] (or `texts[key]`) is
    "singular|plural" (one form in Indonesian), the number grouped as the language writes it."""
    table = TEXTS if texts is None else texts
    forms = table[language if language in table else "id"][key].split("|")
    number = f"{n:,}".replace(",", "." if language == "id" else ",")
    return (forms[0] if n == 1 or len(forms) == 1 else forms[1]).format(n=number)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_markdown(value: str) -> str:
    """`value` shown literally by a markdown renderer that also accepts HTML. URLs and
    e-mail addresses are kept from becoming links (GFM autolinks) by entity-encoding
    the `:` and `@` the autolinker looks for."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(value, quote=False))
    return escaped.replace("://", "&#58;//").replace("@", "&#64;")


_MARKER = re.compile(r"\\\[(\d+)\\\]")


def answer_markdown(answer: Answer | str, turn: int) -> str:
    """The answer for a chat bubble: escaped, with each `[n]` a link to the span of source n
    that its sentence rests on (`#rag-src-TURN-N-SPAN`); while the text streams in, and for
    a marker that is not the next one cited, to source n itself (`#rag-src-TURN-N`)."""
    body = escape_markdown(answer.text if isinstance(answer, Answer) else answer)
    cites = [cite for sentence in answer.sentences for cite in sentence.cites] if isinstance(answer, Answer) else []
    at = 0

    def link(match: re.Match[str]) -> str:
        nonlocal at
        n = int(match.group(1))
        target = f"rag-src-{turn}-{n}"
        if at < len(cites) and cites[at][0] == n:
            target, at = f"{target}-{cites[at][1]}", at + 1
        return f"[\\[{n}\\]](#{target})"

    body = _MARKER.sub(link, body)
    if isinstance(answer, Answer) and answer.notice:
        body = f"{body}\n\n*{escape_markdown(answer.notice)}*"
    return body


@dataclass(frozen=True)
class Passage:
    """The paragraphs of an article that hold its cited spans; `marks[i]` is the citation's
    span i, as offsets into `text` ((-1, -1) for a span that is not in the article)."""

    text: str
    marks: tuple[tuple[int, int], ...]


@dataclass
class Turn:
    """One question and its answer, as the sources panel shows them."""

    question: str
    answer: Answer
    passages: dict[int, Passage] = field(default_factory=dict)


@dataclass(frozen=True)
class Status:
    articles: int
    chunks: int
    embedder: str
    requested: str | None
    fallback_reason: str | None
    llm: str
    """The answer mode, in English ("extractive (offline, no LLM)", "Ollama llama3.2 at ...")."""
    built_at: str
    llm_labels: dict[str, str] = field(default_factory=dict)
    """The answer mode in each interface language (`llm` where missing)."""

    def markdown(self, language: str) -> str:
        built = self.built_at.replace("T", " ")[:16]
        line = text(language, "status", articles=counted(language, "n_articles", self.articles),
                    chunks=counted(language, "n_chunks", self.chunks), embedder=f"`{self.embedder}`",
                    llm=self.llm_labels.get(language, self.llm), built=built)
        if self.fallback_reason and self.embedder.startswith("e5:"):  # the requested model itself, bundled
            line += "\n\n" + text(language, "bundled", requested=f"`{self.requested}`")
        elif self.fallback_reason:
            line += "\n\n" + text(language, "fallback", requested=f"`{self.requested}`", embedder=f"`{self.embedder}`")
        return line


@dataclass(frozen=True)
class Reply:
    """One step of a streamed reply: the chat text so far and, at the end, the answer."""

    markdown: str
    answer: Answer | None = None
    turn: Turn | None = None
    error: str | None = None
    """The problem in plain words, when the question could not be answered."""

    @classmethod
    def problem(cls, message: str) -> Reply:
        return cls(escape_markdown(message), error=message)


class ChatService:
    """The open index and assistant behind the UI, shared by all sessions (thread-safe)."""

    def __init__(self, settings: Settings, open_assistant: Callable[[Settings], Assistant] | None = None,
                 min_interval_s: float = 0.05) -> None:
        from .answer import open_assistant as default_open

        self.settings = settings
        self.min_interval_s = min_interval_s
        """Streamed text is sent at most this often: an answer that is ready at once (the
        extractive one) goes out in one update instead of one per word."""
        self._open = open_assistant or default_open
        self._lock = threading.Lock()
        self._assistant: Assistant | None = None
        self._retired: Assistant | None = None
        self._admission = Admission(settings.concurrency, settings.queue_size)

    # ------------------------------------------------------------ the index

    def assistant(self) -> Assistant:
        """The assistant on the live generation; raises IndexNotFound when there is none.

        A searcher on a Chroma server follows the live generation itself; on a folder
        index, a new generation published by `rag index` is opened here."""
        current = self._assistant
        if current is not None and (not current.searcher.index.tables_in_generation
                                    or current.searcher.index.live() == current.searcher.live):
            return current
        with self._lock:
            if self._assistant is current:
                fresh = self._open(self.settings)
                # The one before is closed only at the next switch: a request may still use it.
                if self._retired is not None:
                    self._retired.searcher.close()
                self._retired, self._assistant = current, fresh
            assert self._assistant is not None
            return self._assistant

    def embedder(self) -> Any:
        """The open index's embedder (None without an index), for indexing uploads."""
        try:
            return self.assistant().searcher.embedder
        except RagError:
            return None

    def status(self) -> Status | None:
        from .llm import describe

        try:
            searcher = self.assistant().searcher
        except RagError:
            return None
        manifest = searcher.manifest
        labels = {language: describe(self.settings.llm, openai_base_url=self.settings.openai_server,
                                     ollama_base_url=self.settings.ollama_url, language=language)
                  for language in TEXTS}
        return Status(articles=manifest.articles, chunks=manifest.chunks, embedder=manifest.embedder["id"],
                      requested=manifest.embedder.get("requested"), fallback_reason=manifest.embedder.get("fallback_reason"),
                      llm=labels["en"], built_at=manifest.built_at, llm_labels=labels)

    def status_markdown(self, language: str, last_answer: Mapping[str, Any] | None = None) -> str:
        """The status line; with `last_answer` (an `Answer.to_json()`), what wrote that answer."""
        status = self.status()
        if status is None:
            return text(language, "no_index", where=self._where())
        line = status.markdown(language)
        line = f"{line} · Chroma {self._where()}" if self.settings.chroma_url else line
        last = last_answer or {}
        mode = last.get("mode")
        if isinstance(mode, str):
            if mode == "extractive":
                mode = text(language, "mode_extractive")
            elif mode == "extractive_fallback":
                mode = text(language, "mode_fallback", reason=f"`{last.get('fallback_reason')}`")
            else:
                mode = f"`{mode}`"
            line += " · " + text(language, "last_answer", mode=mode)
        return line

    def serving_line(self, url: str) -> str:
        """The console line of `rag serve` (in place of Gradio's own): where the UI listens,
        on which index, with which embedder and answer mode. Reads the manifest only."""
        from .llm import describe
        from .store import open_index

        answers = describe(self.settings.llm, openai_base_url=self.settings.openai_server,
                           ollama_base_url=self.settings.ollama_url)
        where = self._where().replace("`", "")
        try:
            index = open_index(self.settings)
            live = index.live()
            manifest = index.read_manifest(live) if live is not None else None
        except RagError:
            manifest = None
        if manifest is None:
            return f"rag: chat UI on {url} · no index in {where} yet (build it with `rag index`) · answers: {answers}"
        fallback = " (offline fallback)" if manifest.embedder.get("fallback_reason") else ""
        return (f"rag: chat UI on {url} · index {where}: {counted('en', 'n_articles', manifest.articles)}, "
                f"{counted('en', 'n_chunks', manifest.chunks)} · embedder {manifest.embedder['id']}{fallback} · "
                f"answers: {answers}")

    def _where(self) -> str:
        if self.settings.chroma_url:
            return f"`{self.settings.collection}` @ {self.settings.chroma_url}"
        return f"`{self.settings.index_dir}/`"

    def outlets(self) -> list[str]:
        try:
            articles = self.assistant().searcher.articles
        except RagError:
            return []
        return sorted({record["source"] for record in articles.values() if record.get("source")}, key=str.lower)

    # ------------------------------------------------------------ asking

    def ask(self, question: str, history: Sequence[tuple[str, str]] = (), since: str = "", until: str = "",
            outlet: str | None = None, language: str = "auto", turn: int = 0) -> Iterator[Reply]:
        """Check the question, then stream the answer: `Reply`s with the text so far, the
        last one carrying the `Answer` and its `Turn`. Problems come as one error `Reply`."""
        lang = interface_language(language, (question or "").strip())
        with self._admission.enter() as admitted:
            if not admitted:
                yield Reply.problem(text(lang, "busy"))
                return
            yield from self._answer(question, history, since, until, outlet, lang, turn)

    def _answer(self, question: str, history: Sequence[tuple[str, str]], since: str, until: str,
                outlet: str | None, lang: str, turn: int) -> Iterator[Reply]:
        try:
            question = check_question(question)
            filters = Filters(since=parse_day(since, lang), until=parse_day(until, lang, next_day=True),
                              source=outlet or None)
            assistant = self.assistant()
        except RagError as err:
            yield Reply.problem(self._error_text(err, lang))
            return
        produced, sent_at = "", 0.0
        try:
            for event in assistant.stream(question, history=history, filters=filters):
                if isinstance(event, Answer):
                    turn_data = Turn(question, event, self.passages(assistant, event.citations))
                    yield Reply(answer_markdown(event, turn), answer=event, turn=turn_data)
                    return
                produced += event
                if time.monotonic() - sent_at >= self.min_interval_s:
                    yield Reply(answer_markdown(produced, turn))
                    sent_at = time.monotonic()
        except RagError as err:
            yield Reply.problem(self._error_text(err, lang))

    def _error_text(self, err: RagError, language: str) -> str:
        from .errors import IndexNotFound

        if isinstance(err, BadQuestion):
            if err.problem == "empty":
                return text(language, "empty")
            return text(language, "too_long", length=err.length, limit=MAX_QUESTION_CHARS)
        if isinstance(err, IndexNotFound):
            return text(language, "no_index", where=self._where())
        return text(language, "error", error=str(err))

    def passages(self, assistant: Assistant, citations: Sequence[Citation]) -> dict[int, Passage]:
        """For each citation, the paragraphs of its article holding its spans."""
        found: dict[int, Passage] = {}
        searcher = assistant.searcher
        for citation in citations:
            start, _, body = searcher.context(citation.article_id, 0, radius=10**6)
            found[citation.n] = paragraph_around(body, [(span.start - start, span.end - start)
                                                        for span in citation.spans])
        return found


class Admission:
    """At most `running` questions answered at once and `waiting` more waiting for a turn
    (RAG_CONCURRENCY, RAG_QUEUE_SIZE); a question beyond that is turned away at once. The
    app keeps this queue itself, rather than Gradio's, so that a reader who is turned away
    gets the app's own message in the question's language, not Gradio's English toast."""

    def __init__(self, running: int, waiting: int) -> None:
        self.capacity = running + waiting
        self._turns = threading.Semaphore(running)
        self._lock = threading.Lock()
        self._admitted = 0

    @contextlib.contextmanager
    def enter(self) -> Iterator[bool]:
        """Yields False at once when the queue is full; else waits for a turn and yields True."""
        with self._lock:
            admitted = self._admitted < self.capacity
            self._admitted += admitted
        if not admitted:
            yield False
            return
        try:
            with self._turns:
                yield True
        finally:
            with self._lock:
                self._admitted -= 1


def parse_day(value: str | None, language: str, next_day: bool = False) -> datetime | None:
    """A date typed into a filter box; `next_day` reads it as an "until" bound, which
    includes the day of a date without a time (`dates.parse_until`, as `--until`)."""
    from .dates import parse_published, parse_until

    value = (value or "").strip()
    if not value:
        return None
    parsed = parse_until(value) if next_day else parse_published(value)
    if parsed is None:
        raise RagError(text(language, "bad_date", value=value))
    return parsed


GAP = "\n…\n"
"""Shown between two cited paragraphs that are not next to each other."""


def paragraph_around(body: str, spans: Sequence[tuple[int, int]]) -> Passage:
    """The paragraphs (between line breaks) holding the spans, in article order, joined by
    GAP where paragraphs are left out, with every span marked."""
    inside = [0 <= s <= e <= len(body) for s, e in spans]
    ranges = []
    for (start, end), ok in zip(spans, inside):
        if ok:
            right = body.find("\n", end)
            ranges.append((body.rfind("\n", 0, start) + 1, len(body) if right == -1 else right))
    if not ranges:
        return Passage(body, tuple((-1, -1) for _ in spans))
    merged: list[list[int]] = []
    for left, right in sorted(ranges):
        if merged and left <= merged[-1][1] + 1:  # overlapping, or the very next paragraph
            merged[-1][1] = max(merged[-1][1], right)
        else:
            merged.append([left, right])
    pieces: list[str] = []
    offsets: list[int] = []
    at = 0
    for left, right in merged:
        if pieces:
            at += len(GAP)
        offsets.append(at - left)  # body offset -> text offset, inside this range
        pieces.append(body[left:right])
        at += right - left
    marks = []
    for (start, end), ok in zip(spans, inside):
        shift = next((o for (left, right), o in zip(merged, offsets) if left <= start <= right), None) if ok else None
        marks.append((-1, -1) if shift is None else (start + shift, end + shift))
    return Passage(GAP.join(pieces), tuple(marks))


# ------------------------------------------------------------ the sources panel

def _highlight(passage: Passage, mark_id: str) -> str:
    """`passage` escaped, each span a `<mark id="MARK_ID-i">` (a marker's link target)."""
    pieces, at = [], 0
    for index, (start, end) in sorted(enumerate(passage.marks), key=lambda item: item[1]):
        if start < at or start < 0:
            continue  # overlaps the span before it (or is not in the article): that one is marked
        pieces.append(html.escape(passage.text[at:start]))
        pieces.append(f'<mark id="{mark_id}-{index}">{html.escape(passage.text[start:end])}</mark>')
        at = end
    pieces.append(html.escape(passage.text[at:]))
    return "".join(pieces)


def safe_url(url: str | None) -> str | None:
    """Only http(s) links become links; anything else (javascript:, data:) is dropped."""
    if url and re.match(r"https?://[^\s\"'<>]+$", url.strip(), re.I):
        return url.strip()
    return None


def citation_html(citation: Citation, passage: Passage | None, turn: int, language: str) -> str:
    meta = [html.escape(x) for x in (citation.source, (citation.published or "")[:10]) if x]
    if citation.author:
        meta.append(f"{text(language, 'by')} {html.escape(citation.author)}")
    url = safe_url(citation.url)
    link = (f' · <a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{text(language, 'open_original')}</a>") if url else ""
    anchor = f"rag-src-{turn}-{citation.n}"
    quote = _highlight(passage, anchor) if passage else html.escape(GAP).join(
        f'<mark id="{anchor}-{i}">{html.escape(span.quote)}</mark>' for i, span in enumerate(citation.spans))
    return (f'<div class="rag-source" id="{anchor}">'
            f'<div class="rag-source-head"><span class="rag-n">[{citation.n}]</span> '
            f"<strong>{html.escape(citation.title)}</strong></div>"
            f'<div class="rag-source-meta">{" · ".join(meta)}{link}</div>'
            f'<p class="rag-quote">{quote}</p></div>')


def sources_html(turns: Sequence[Turn], language: str) -> str:
    """All answers' sources, the latest first and open; every string escaped."""
    if not any(t.answer.citations for t in turns):
        return f'<div class="rag-sources"><p class="rag-empty">{html.escape(text(language, "no_sources"))}</p></div>'
    parts = ['<div class="rag-sources">']
    numbered = list(enumerate(turns))
    for index, turn in reversed(numbered):
        if not turn.answer.citations:
            continue
        is_latest = index == numbered[-1][0]
        items = "".join(citation_html(c, turn.passages.get(c.n), index, language) for c in turn.answer.citations)
        parts.append(f'<details class="rag-turn" id="rag-turn-{index}"{" open" if is_latest else ""}>'
                     f"<summary>{html.escape(turn.question)}</summary>{items}</details>")
    parts.append("</div>")
    return "".join(parts)


# ------------------------------------------------------------ serving safely

def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond this machine without a login, unless explicitly allowed."""
    from .errors import ConfigError

    if not is_loopback(settings.server_name) and not settings.auth and not settings.allow_public:
        raise ConfigError(
            f"RAG_SERVER_NAME={settings.server_name} would let anyone on the network use the app: "
            "set RAG_AUTH=user:password, or RAG_ALLOW_PUBLIC=1 when a proxy in front of it checks logins"
        )


class LoginGuard:
    """RAG_AUTH's login check for Gradio (`launch(auth=guard.verify)`), throttled: every wrong login
    is answered only after `failure_delay_s`, and after `max_failures` wrong logins within
    `window_s` every login is refused, the right one too, until the oldest of them is
    `window_s` old. So a password is guessed at most `max_failures` times a window however
    many requests arrive at once; the price is that the user waits out an attack too."""

    def __init__(self, user: str, password: str, max_failures: int = 5, window_s: float = 60.0,
                 failure_delay_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._user, self._password = user.encode(), password.encode()
        self.max_failures, self.window_s, self.failure_delay_s = max_failures, window_s, failure_delay_s
        self._clock = clock
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    def locked(self) -> bool:
        with self._lock:
            now = self._clock()
            while self._failures and now - self._failures[0] >= self.window_s:
                self._failures.popleft()
            return len(self._failures) >= self.max_failures

    def check(self, user: str, password: str) -> bool:
        """Whether this login is let in; a wrong one counts against the window."""
        if self.locked():
            return False
        right_user = hmac.compare_digest(user.encode(), self._user)
        right = hmac.compare_digest(password.encode(), self._password) and right_user
        if not right:
            with self._lock:
                self._failures.append(self._clock())
        return right

    async def verify(self, user: str, password: str) -> bool:
        """The check Gradio calls (`launch(auth=guard.verify)`). It must be an `async def`:
        Gradio awaits only what `inspect.iscoroutinefunction` recognises (an object with an
        async `__call__` would be called, and its coroutine taken as a yes). Awaited on the
        event loop, the delay holds no thread."""
        right = self.check(user, password)
        if not right:
            await asyncio.sleep(self.failure_delay_s)
        return right


def login(settings: Settings) -> Callable[[str, str], Awaitable[bool]] | None:
    """Gradio's `auth` for RAG_AUTH: a throttled check (see `LoginGuard`), or None without a login."""
    if not settings.auth:
        return None
    user, password = settings.auth.split(":", 1)
    return LoginGuard(user, password).verify


UPLOAD_SUFFIXES = tuple(SUFFIXES)
"""What the app's upload control takes (what `rag index` reads); Gradio's upload route refuses anything else."""


def private_paths(settings: Settings) -> list[str]:
    """What the app must never serve, even if a file route asks for it."""
    paths = [settings.index_dir, *settings.sources, settings.upload_dir, Path(".env"), Path(".git")]
    return [str(Path(p).resolve()) for p in paths]
