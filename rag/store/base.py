"""What every index shares: the manifest, an opened generation, and the `Index` protocol.

A generation is named by a string, `gen-<time>-<id>`: a folder of the index directory
(folder.py) or a collection on a Chroma server (server.py). Left out: where generations
live and how the live one is chosen (the two backends).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import IndexMismatch

SCHEMA_VERSION = 2
COLLECTION = "chunks"
CURRENT = "CURRENT"
PREVIOUS = "PREVIOUS"
MANIFEST = "manifest.json"
ARTICLES = "articles.json"


@dataclass(frozen=True)
class Manifest:
    """How a generation was built; queries must be embedded the same way."""

    embedder: dict[str, Any]
    """id, dimension, max_tokens, requested (the configured model), fallback_reason."""
    chunking: dict[str, Any]
    """chunk_tokens, overlap_tokens, chunker_version."""
    articles: int
    chunks: int
    built_at: str
    sources: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls.from_json(json.loads((path / MANIFEST).read_text()), f"{path.parent}")

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> Manifest:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise IndexMismatch(
                f"index in {where} has schema version {data.get('schema_version')}, this rag writes "
                f"{SCHEMA_VERSION}: run `rag index --rebuild`"
            )
        return cls(**data)


def chroma_settings(**changes: Any) -> Any:
    """The Chroma client settings of both backends: no telemetry, no reset (and `changes`)."""
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False, **changes)


class Generation:
    """One opened generation: its Chroma collection, and where its search tables are
    (`tables`: the generation's folder, or this machine's cache for a server generation)."""

    def __init__(self, name: str, tables: Path, client: Any, collection: Any, *, owns_client: bool) -> None:
        self.name = name
        self.tables = tables
        # Chroma's type hints are narrower than what it accepts and returns (numpy arrays,
        # optional result fields that `include` makes present): its handles are Any here.
        self._client = client
        self._owns_client = owns_client
        self.collection: Any = collection

    @property
    def max_batch_size(self) -> int:
        return int(self._client.get_max_batch_size())

    def add(self, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str], metadatas: Sequence[dict]) -> None:
        step = self.max_batch_size
        for i in range(0, len(ids), step):
            self.collection.add(ids=list(ids[i:i + step]), embeddings=vectors[i:i + step],
                                documents=list(documents[i:i + step]), metadatas=list(metadatas[i:i + step]))

    def delete_articles(self, article_ids: Iterable[str]) -> None:
        ids = list(article_ids)
        for i in range(0, len(ids), 500):
            self.collection.delete(where={"article_id": {"$in": ids[i:i + 500]}})

    def nearest(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `n` nearest chunks, best first. Only ids and
        distances are fetched: documents and metadata cost more than the search itself."""
        res = self.collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=n,
                                    where=where, include=["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(res["ids"][0], res["distances"][0])]

    def chunks(self, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """chunk id -> (text, metadata) of the chunks `ids`."""
        got = self.collection.get(ids=ids, include=["documents", "metadatas"])
        return {cid: (doc, meta) for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}

    def page(self, offset: int, limit: int) -> dict[str, Any]:
        """Up to `limit` stored chunks from `offset`: ids, documents, metadatas, embeddings."""
        return self.collection.get(include=["documents", "metadatas", "embeddings"], limit=limit, offset=offset)

    def count(self) -> int:
        return int(self.collection.count())

    def close(self) -> None:
        if self._owns_client:
            self._owns_client = False  # once: a writer closes it before publishing and again on the way out
            self._client.close()


class Index(Protocol):
    """What the indexer and the searcher need of an index: `IndexDir` (a folder) or
    `ServerIndex` (a Chroma server). Generations are named by strings in both.

    Search tables (tables.py) are where the two differ: a folder index writes them into
    each generation when it is published, and its readers stay on the generation they
    opened (the app opens a new searcher when `stale`); on a server, each reader builds
    them into its machine's cache and `follow`s the live generation by itself."""

    @property
    def location(self) -> str: ...
    def writer_lock(self) -> AbstractContextManager[None]: ...
    def live(self) -> str | None: ...
    def require_live(self) -> str: ...
    def read_manifest(self, generation: str) -> Manifest: ...
    def read_articles(self, generation: str) -> dict[str, dict[str, Any]]: ...

    def open_generation(self, generation: str) -> Generation:
        """Open a published generation for reading, its search tables ready (IndexMismatch
        when a folder generation's tables were written by an older rag)."""
        ...

    def new_generation(self, copy_of: str | None, expected_chunks: int = 0) -> Generation:
        """A writable generation, empty or a copy of `copy_of` checked to hold `expected_chunks`."""
        ...

    def publish(self, generation: Generation, manifest: Manifest, articles: dict[str, dict[str, Any]]) -> str:
        """Write the bookkeeping (and the tables, where they live in the generation), close
        `generation` and make it live in one step; returns its published name."""
        ...

    def collect_garbage(self) -> tuple[int, int]: ...

    def tables_outdated(self, generation: str) -> bool:
        """Whether a writer must write `generation` anew for its search tables alone."""
        ...

    def follow(self, current: str, *, wait: bool = False) -> str | None:
        """The generation a reader on `current` moves to by itself, or None to stay."""
        ...

    def stale(self, current: str) -> bool:
        """Whether a reader on `current` must be replaced by one opened anew to see the live generation."""
        ...
