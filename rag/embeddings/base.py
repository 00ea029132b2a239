"""The embedder interface: LangChain's `Embeddings`, plus what the index must record.

Every embedder knows its `id` (a `provider:model` string that loads it again), its
output `dimension`, the longest input it embeds without truncation (`max_tokens`) and
how to count tokens, so that chunks are sized in the model's own tokens.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings


class Embedder(Embeddings, ABC):
    id: str
    dimension: int
    max_tokens: int
    fallback_reason: str | None = None
    """Set when this embedder stands in for a configured model that could not be loaded."""
    description: str | None = None
    """What the model is, in words, for logs and the index manifest (e.g. "the 4-bit bundled copy")."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` as a passage (prefixes and special tokens included)."""

    @abstractmethod
    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""

    @abstractmethod
    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Like `encode_passages`, with the model's query form (e.g. e5's `query: ` prefix)."""

    # LangChain's interface, in terms of the two methods above.
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()


def normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
