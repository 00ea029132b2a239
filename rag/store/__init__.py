"""The persisted index: immutable generations of chunks and vectors, and the pointer to the live one.

    base.py    the `Index` protocol, `Manifest`, an opened `Generation`, the file names
    folder.py  `IndexDir`: generations as folders of an index directory (RAG_INDEX_DIR)
    server.py  `ServerIndex`: generations as collections on a Chroma server (RAG_CHROMA_URL)

`open_index(settings)` chooses between them. Left out: how articles become chunks and
vectors (indexer.py), the search tables (tables.py) and ranking (search.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import ARTICLES, COLLECTION, CURRENT, MANIFEST, PREVIOUS, SCHEMA_VERSION, Generation, Index, Manifest
from .folder import IndexDir, read_articles, write_metadata
from .server import ServerIndex

if TYPE_CHECKING:
    from ..settings import Settings


def open_index(settings: Settings) -> Index:
    """The configured index: a Chroma server when `settings.chroma_url` is set, else the folder."""
    if settings.chroma_url:
        return ServerIndex(settings.chroma_url, collection=settings.collection, token=settings.chroma_token,
                           headers=dict(settings.chroma_headers), cache_dir=settings.index_dir)
    return IndexDir(settings.index_dir)


__all__ = ["ARTICLES", "COLLECTION", "CURRENT", "MANIFEST", "PREVIOUS", "SCHEMA_VERSION", "Generation", "Index",
           "IndexDir", "Manifest", "ServerIndex", "open_index", "read_articles", "write_metadata"]
