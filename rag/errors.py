"""The errors rag raises, each with a message that says what to do next.

    RagError
    ├── ConfigError        a setting is invalid
    ├── EmbedderError      an embedding model cannot be loaded
    ├── IndexNotFound      no index yet: run `rag index`
    ├── IndexMismatch      the index was built differently: run `rag index --rebuild`
    ├── IndexLocked        another `rag index` is writing
    ├── ModelError         a local model cannot be installed or removed (`rag models`)
    └── BadArticle         one input could not be read as an article (skipped, never fatal)

The CLI turns these into an exit code and one line on stderr; the chat UI into a message.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class of every error rag raises on purpose."""

    exit_code = 1


class ConfigError(RagError):
    exit_code = 2


class EmbedderError(RagError):
    pass


class IndexNotFound(RagError):
    pass


class IndexMismatch(RagError):
    pass


class IndexLocked(RagError):
    exit_code = 3


class BadArticle(RagError):
    """An input that is skipped; `reason` is short and lowercase, for summaries."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ModelError(RagError):
    """A local model cannot be installed or removed (`rag models`)."""
