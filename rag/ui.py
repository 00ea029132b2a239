"""What the chat UI does, without Gradio: checked questions, streamed replies, the
sources of each turn, and the status line.

`ChatService` owns the open index. It opens it on the first question, and when the
indexer publishes a new generation it opens that one instead, so a rebuilt index is
noticed without a restart. Everything it returns is plain data or escaped text
(rendered by ui_render.py, in the strings of ui_text.py), so that the Gradio layer
(webapp.py) only wires components to these functions.

Left out: the strings (ui_text.py), rendering (ui_render.py), who may use the app
(guards.py), layout and event wiring (webapp.py), answering (answer.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .answer import Answer, Assistant
from .citations import Citation
from .errors import BadQuestion, RagError
from .evidence import MAX_QUESTION_CHARS, check_question
from .guards import Admission
from .search import Filters
from .settings import Settings
from .ui_render import Passage, Turn, answer_markdown, escape_markdown, paragraph_around
from .ui_text import TEXTS, counted, interface_language, text

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
        if current is not None and not current.searcher.stale():
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
        """For each citation, the paragraphs of its article holding its spans (the cited
        articles' bodies read in one request)."""
        found: dict[int, Passage] = {}
        bodies = assistant.searcher.contexts([(c.article_id, 0) for c in citations], radius=10**6)
        for citation in citations:
            start, _, body = bodies[citation.article_id, 0]
            found[citation.n] = paragraph_around(body, [(span.start - start, span.end - start)
                                                        for span in citation.spans])
        return found


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
