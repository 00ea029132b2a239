"""Minimal search over a built index: embed the query with the index's own embedder,
take the nearest chunks from Chroma, keep the best chunk of each article.

The full retriever (hybrid lexical + dense, filters, dates) builds on this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .embeddings import Embedder, load_embedder
from .store import Generation, IndexDir, Manifest

HIT_FIELDS = ("article_id", "title", "source", "published", "url", "author", "chunk_index", "start", "end", "text", "score")


@dataclass
class OpenIndex:
    """A live generation, opened with the embedder recorded in its manifest."""

    path: Path
    manifest: Manifest
    generation: Generation
    embedder: Embedder

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder | None = None) -> OpenIndex:
        live = IndexDir(index_dir).require_live()
        manifest = Manifest.read(live)
        if embedder is None:
            embedder = load_embedder(manifest.embedder["id"])
        return cls(live, manifest, Generation(live), embedder)

    def search(self, query: str, k: int = 5) -> list[dict[str, Any]]:
        vector = self.embedder.encode_queries([query])[0]
        best: dict[str, dict[str, Any]] = {}
        for hit in self.generation.query(vector, n=max(k * 8, 20)):
            if hit["article_id"] not in best:
                best[hit["article_id"]] = hit
        hits = sorted(best.values(), key=lambda h: -h["score"])[:k]
        return [{f: h.get(f) for f in HIT_FIELDS} for h in hits]

    def close(self) -> None:
        self.generation.close()
