"""A deterministic bag-of-words embedder for tests: texts that share words score closer.

No model, no randomness across runs or machines (words are hashed with blake2b), so
tests that do not depend on embedding quality run fast and give the same results.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from .base import Embedder, normalize

_TOKEN = re.compile(r"\w+")


class HashingEmbedder(Embedder):
    def __init__(self, dimension: int = 256, max_tokens: int = 512) -> None:
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.id = f"hash:{dimension}"
        self.calls = 0
        """Texts embedded so far (tests assert on it)."""

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def _bucket(self, word: str) -> int:
        return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little") % self.dimension

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _TOKEN.findall(text.lower()):
                out[row, self._bucket(word)] += 1.0
        out[:, 0] += 1e-3  # no zero vectors, even for empty text
        return normalize(out)

    encode_queries = encode_passages
