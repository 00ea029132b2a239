"""rag: ask questions about news articles, with citations you can check."""

from .articles import Article
from .errors import IndexLocked, IndexMismatch, IndexNotFound, RagError
from .settings import Settings

__all__ = ["Article", "IndexLocked", "IndexMismatch", "IndexNotFound", "RagError", "Settings"]
