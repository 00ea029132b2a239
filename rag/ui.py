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

import html
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .answer import MAX_QUESTION_CHARS, Answer, Assistant, Citation, question_language
from .errors import RagError
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
        "status": "{articles} artikel, {chunks} potongan · embedder {embedder} · jawaban: {llm} · diindeks {built}",
        "fallback": "⚠️ Model embedding {requested} tidak tersedia secara offline; indeks memakai cadangan {embedder}, "
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
        "status": "{articles} articles, {chunks} chunks · embedder {embedder} · answers: {llm} · indexed {built}",
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

EXAMPLES = (
    "Apa yang dibahas Anies dengan Gubernur Tokyo?",
    "Kapan Anies pertama kali bertemu Gubernur Koike?",
    "What did Anies Baswedan discuss in Tokyo?",
    "Who did the Jakarta governor meet in Japan?",
)


def interface_language(choice: str, question: str = "") -> str:
    """`id` or `en`: the user's choice, or with `auto` the question's language (Indonesian
    when there is no question yet)."""
    if choice in ("id", "en"):
        return choice
    return question_language(question) if question.strip() else "id"


def text(language: str, key: str, **values: Any) -> str:
    return TEXTS[language if language in TEXTS else "id"][key].format(**values)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_markdown(value: str) -> str:
    """`value` shown literally by a markdown renderer that also accepts HTML. URLs and
    e-mail addresses are kept from becoming links (GFM autolinks) by entity-encoding
    the `:` and `@` the autolinker looks for."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(value, quote=False))
    return escaped.replace("://", "&#58;//").replace("@", "&#64;")


_MARKER = re.compile(r"\\\[(\d+)\\\]")


def answer_markdown(answer: Answer | str, turn: int) -> str:
    """The answer for a chat bubble: escaped, with each `[n]` a link to its source."""
    body = escape_markdown(answer.text if isinstance(answer, Answer) else answer)
    body = _MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#rag-src-{turn}-{m.group(1)})", body)
    if isinstance(answer, Answer) and answer.notice:
        body = f"{body}\n\n*{escape_markdown(answer.notice)}*"
    return body


@dataclass(frozen=True)
class Passage:
    """The paragraph of an article around a cited quote; `marks` are the quoted
    spans, as offsets into `text`."""

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
    built_at: str

    def markdown(self, language: str) -> str:
        built = self.built_at.replace("T", " ")[:16]
        line = text(language, "status", articles=self.articles, chunks=self.chunks, embedder=f"`{self.embedder}`",
                    llm=self.llm, built=built)
        if self.fallback_reason:
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

    def status(self) -> Status | None:
        from .llm import describe

        try:
            searcher = self.assistant().searcher
        except RagError:
            return None
        manifest = searcher.manifest
        llm = describe(self.settings.llm, openai_base_url=self.settings.openai_base_url,
                       ollama_base_url=self.settings.ollama_url)
        return Status(articles=manifest.articles, chunks=manifest.chunks, embedder=manifest.embedder["id"],
                      requested=manifest.embedder.get("requested"), fallback_reason=manifest.embedder.get("fallback_reason"),
                      llm=llm, built_at=manifest.built_at)

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
        question = (question or "").strip()
        lang = interface_language(language, question)
        if not question:
            yield Reply.problem(text(lang, "empty"))
            return
        if len(question) > MAX_QUESTION_CHARS:
            yield Reply.problem(text(lang, "too_long", length=len(question), limit=MAX_QUESTION_CHARS))
            return
        try:
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

        if isinstance(err, IndexNotFound):
            return text(language, "no_index", where=self._where())
        return text(language, "error", error=str(err))

    def passages(self, assistant: Assistant, citations: Sequence[Citation]) -> dict[int, Passage]:
        """For each citation, the paragraph of its article holding the quote."""
        found: dict[int, Passage] = {}
        searcher = assistant.searcher
        for citation in citations:
            start, _, body = searcher.context(citation.article_id, 0, radius=10**6)
            spans = [(citation.start, citation.end)] + [(s, e) for s, e, _ in citation.more_quotes]
            spans = [(s - start, e - start) for s, e in spans]
            found[citation.n] = paragraph_around(body, spans)
        return found


def parse_day(value: str | None, language: str, next_day: bool = False) -> datetime | None:
    """A date typed into a filter box; `next_day` makes an inclusive "until" exclusive."""
    from .dates import parse_published

    value = (value or "").strip()
    if not value:
        return None
    parsed = parse_published(value)
    if parsed is None:
        raise RagError(text(language, "bad_date", value=value))
    if next_day:
        parsed = parsed.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return parsed


def paragraph_around(body: str, spans: Sequence[tuple[int, int]]) -> Passage:
    """The paragraph (between blank-line or line breaks) holding the first span, with the
    spans that fall inside it."""
    first_start, first_end = spans[0]
    if not 0 <= first_start <= first_end <= len(body):
        return Passage(body, ())
    left = body.rfind("\n", 0, first_start) + 1
    right = body.find("\n", first_end)
    right = len(body) if right == -1 else right
    marks = tuple((s - left, e - left) for s, e in spans if left <= s <= e <= right)
    return Passage(body[left:right], marks)


# ------------------------------------------------------------ the sources panel

def _highlight(passage: Passage) -> str:
    pieces, at = [], 0
    for start, end in sorted(passage.marks):
        if start < at:
            continue
        pieces.append(html.escape(passage.text[at:start]))
        pieces.append(f"<mark>{html.escape(passage.text[start:end])}</mark>")
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
    quote = _highlight(passage) if passage else f"<mark>{html.escape(citation.quote)}</mark>"
    return (f'<div class="rag-source" id="rag-src-{turn}-{citation.n}">'
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


def login(settings: Settings) -> tuple[str, str] | None:
    if not settings.auth:
        return None
    user, password = settings.auth.split(":", 1)
    return user, password


def private_paths(settings: Settings) -> list[str]:
    """What the app must never serve, even if a file route asks for it."""
    paths = [settings.index_dir, *settings.sources, Path(".env"), Path(".git")]
    return [str(Path(p).resolve()) for p in paths]
