"""Any sentence-transformers model, by hub name or local path, on CPU.

Hub names are loaded from the local Hugging Face cache first; the hub is asked only
when the cache does not have the model and the network answers (checked with a short
connection probe, because the hub client retries for over a minute when offline).
Query and passage prefixes come from the model's own `prompts`, or the e5 convention
(`query: ` / `passage: `) for e5 models.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from ..errors import EmbedderError
from ..settings import HF_ENDPOINT
from .base import Embedder, normalize

log = logging.getLogger(__name__)


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, name_or_path: str, batch_size: int = 64, *, offline: bool = False,
                 endpoint: str = HF_ENDPOINT) -> None:
        """`offline` (HF_HUB_OFFLINE) never asks the hub at `endpoint` (HF_ENDPOINT)."""
        online = _check_available(name_or_path, offline, endpoint)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as err:
            raise EmbedderError("sentence-transformers is not installed: pip install sentence-transformers") from err
        self._model = _load(SentenceTransformer, name_or_path, online)
        self.id = f"st:{name_or_path}"
        self.model_path = str(Path(name_or_path).expanduser()) if Path(name_or_path).expanduser().exists() else name_or_path
        self.dimension = int(self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.batch_size = batch_size
        prompts = {k: v for k, v in (self._model.prompts or {}).items() if v}
        is_e5 = "e5" in Path(name_or_path).name.lower()
        self.query_prefix = prompts.get("query", "query: " if is_e5 else "")
        self.passage_prefix = prompts.get("document", prompts.get("passage", "passage: " if is_e5 else ""))
        self._specials = len(self._model.tokenizer("", add_special_tokens=True)["input_ids"])

    def count_tokens(self, text: str) -> int:
        ids = self._model.tokenizer(self.passage_prefix + text, add_special_tokens=False)["input_ids"]
        return len(ids) + self._specials

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode([prefix + t for t in texts], batch_size=self.batch_size,
                                     convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
        return normalize(vectors)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prefix)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix)


def is_local(name_or_path: str) -> bool:
    """A local folder, or a hub name already in the Hugging Face cache."""
    return Path(name_or_path).expanduser().exists() or _in_hf_cache(name_or_path)


def _check_available(name_or_path: str, offline: bool, endpoint: str) -> bool:
    """Fail fast, before importing torch, when the model can be neither found nor fetched.
    Returns True when it must come from the hub (not local, not cached)."""
    if is_local(name_or_path):
        return False
    if offline or not _hub_reachable(endpoint):
        raise EmbedderError(f"{name_or_path!r} is not a local path, not in the Hugging Face cache, and the hub is unreachable")
    return True


def _in_hf_cache(name: str) -> bool:
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    repo = name if "/" in name else f"sentence-transformers/{name}"
    folder = Path(constants.HF_HUB_CACHE) / ("models--" + repo.replace("/", "--"))
    return (folder / "snapshots").is_dir()


def _load(factory, name_or_path: str, online: bool):
    local = Path(name_or_path).expanduser()
    try:
        if local.exists():
            return factory(str(local), device="cpu")
        if online:
            log.info("downloading %s from the Hugging Face hub", name_or_path)
        return factory(name_or_path, device="cpu", local_files_only=not online)
    except Exception as err:
        raise EmbedderError(f"cannot load embedding model {name_or_path!r}: {err}") from err


def _hub_reachable(endpoint: str, timeout: float = 3.0) -> bool:
    url = urlparse(endpoint)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False
