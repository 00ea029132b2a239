"""The errors rag raises, each with a message that says what to do next.

    RagError
    ├── ConfigError        a setting is invalid
    │   └── BadQuestion    a question that cannot be asked (empty, too long)
    ├── EmbedderError      an embedding model cannot be loaded
    ├── IndexNotFound      no index yet: run `rag index`
    ├── IndexMismatch      the index was built differently: run `rag index --rebuild`
    ├── IndexLocked        another `rag index` is writing
    ├── IndexRunError      a `rag index` run stopped or failed in part (carries its summary or plan)
    │   ├── InputsSkipped      --strict and an input was skipped: nothing was written
    │   ├── SourceError        a source cannot be read or named (its articles are kept)
    │   └── NeedsConfirmation  the run would remove many articles: nothing was written
    ├── ModelError         a local model cannot be installed or removed (`rag models`)
    └── BadArticle         one input could not be read as an article (skipped, never fatal)

The CLI turns these into an exit code and one line on stderr; the chat UI into a message.
"""

from __future__ import annotations

from typing import Any


class RagError(Exception):
    """Base class of every error rag raises on purpose."""

    exit_code = 1


class ConfigError(RagError):
    exit_code = 2


class BadQuestion(ConfigError):
    """A question rejected before searching; `problem` ("empty" or "too_long") and `length`
    let the chat UI say it in its own language."""

    def __init__(self, problem: str, message: str, length: int = 0) -> None:
        super().__init__(message)
        self.problem = problem
        self.length = length


class EmbedderError(RagError):
    pass


class IndexNotFound(RagError):
    pass


class IndexMismatch(RagError):
    pass


class IndexLocked(RagError):
    exit_code = 3


class IndexRunError(RagError):
    """An error of a `rag index` run that carries what the run found: `summary` (an
    `IndexSummary`) or, for NeedsConfirmation, `plan` (the `sources.Plan` not carried out)."""

    def __init__(self, message: str, summary: Any = None, plan: Any = None) -> None:
        super().__init__(message)
        self.summary = summary
        self.plan = plan


class InputsSkipped(IndexRunError):
    """`--strict` and an input was skipped: raised before anything is written."""

    exit_code = 4


class SourceError(IndexRunError):
    """A source could not be read; with `summary`, the other sources were updated."""

    exit_code = 5


class NeedsConfirmation(IndexRunError):
    """The run would remove many articles: raised before anything is written."""

    exit_code = 6


class BadArticle(RagError):
    """An input that is skipped; `reason` is short and lowercase, for summaries."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ModelError(RagError):
    """A local model cannot be installed or removed (`rag models`)."""
