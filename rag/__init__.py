"""rag: ask questions about news articles, with citations you can check.

    from rag import get_retriever
    docs = get_retriever("index", k=5, source="ANTARA").invoke("Anies bertemu Gubernur Tokyo")

Heavy modules (Chroma, models) load on first use, not on `import rag`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .articles import Article
from .errors import BadArticle, BadQuestion, ConfigError, EmbedderError, IndexLocked, IndexMismatch, IndexNotFound, RagError
from .settings import Settings

if TYPE_CHECKING:
    from .answer import Answer, Assistant, open_assistant
    from .citations import Citation
    from .indexer import IndexSummary, build_index
    from .retriever import NewsRetriever, get_retriever
    from .search import Filters, Hit, Searcher

_LAZY = {
    "Assistant": "answer", "Answer": "answer", "Citation": "citations", "open_assistant": "answer",
    "build_index": "indexer", "IndexSummary": "indexer",
    "get_retriever": "retriever", "NewsRetriever": "retriever",
    "Searcher": "search", "Filters": "search", "Hit": "search",
}

__all__ = [
    "Answer", "Assistant", "Citation", "open_assistant", "Article", "BadArticle", "BadQuestion", "ConfigError", "EmbedderError", "Filters", "Hit", "IndexLocked", "IndexMismatch",
    "IndexNotFound", "IndexSummary", "NewsRetriever", "RagError", "Searcher", "Settings", "build_index", "get_retriever",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, the lazily imported ones included (for `dir(rag)` and completion)."""
    return sorted(set(globals()) | set(__all__))
