"""Pick the chat model that writes answers, from one `provider:model` string (RAG_LLM).

    llamacpp:MODEL    a GGUF model in this process, by path or `rag models` name
                                                      (extra `llamacpp`: xllamacpp; llm_llamacpp.py)
    ollama:MODEL      a local Ollama server           (extra `ollama`: langchain-ollama)
    openai:MODEL      OpenAI or any OpenAI-compatible server: vLLM, llama.cpp, LM Studio
                                                      (extra `openai`: langchain-openai)
    hf:MODEL          transformers in this process, by hub id or local folder
                                                      (extra `hf`: langchain-huggingface)
    none, extractive  no LLM: `load_chat_model` returns None and the caller uses the
                      offline extractive answerer (also the meaning of an empty RAG_LLM)

Every model answers deterministically (temperature 0 / greedy decoding). Integrations are
imported inside their branch, so importing this module costs nothing. `is_unreachable`
tells the caller which errors mean "the model service is not there" (fall back to the
extractive answer with a notice) as opposed to bugs or bad settings (report them), and
`failure_reason` names the fallback for the answer's `fallback_reason`.

Left out: reading the environment (RAG_LLM, OPENAI_BASE_URL, HF_HUB_OFFLINE: that is `rag.settings`), prompts and
answering (the chain), streaming, tool calling, API keys from files.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

DEFAULT_OLLAMA_URL = "http://localhost:11434"
DEFAULT_OPENAI_URL = "https://api.openai.com/v1"
HF_MAX_NEW_TOKENS = 512
OFFLINE_SPECS = frozenset({"", "none", "extractive"})
VALID_FORMS = "llamacpp:MODEL (.gguf path or `rag models` name), ollama:MODEL, openai:MODEL, hf:MODEL (hub id or local folder), or none / extractive"

# provider -> (module, pip distribution, rag extra)
_INTEGRATIONS = {
    "llamacpp": ("xllamacpp", "xllamacpp", "llamacpp"),
    "ollama": ("langchain_ollama", "langchain-ollama", "ollama"),
    "openai": ("langchain_openai", "langchain-openai", "openai"),
    "hf": ("langchain_huggingface", "langchain-huggingface", "hf"),
}


def parse_spec(spec: str | None) -> tuple[str, str] | None:
    """`"ollama:llama3.2:3b"` -> `("ollama", "llama3.2:3b")`; None for the extractive answerer."""
    text = (spec or "").strip()
    if text.lower() in OFFLINE_SPECS:
        return None
    provider, sep, model = text.partition(":")
    provider, model = provider.strip().lower(), model.strip()
    if not sep or not model or provider not in _INTEGRATIONS:
        raise ConfigError(f"RAG_LLM={spec!r} is not valid; use one of: {VALID_FORMS}")
    return provider, model


# Answers are a few sentences; a model that rambles is cut off instead of running for minutes.
MAX_ANSWER_TOKENS = 400


def load_chat_model(
    spec: str | None,
    *,
    openai_base_url: str | None = None,
    openai_api_key: str | None = None,
    ollama_base_url: str | None = None,
    timeout_s: float = 60.0,
    hf_max_new_tokens: int = HF_MAX_NEW_TOKENS,
    models_dir: Path = Path("models"),
    llm_threads: int | None = None,
    llm_context: int = 4096,
    max_tokens: int | None = None,
    hf_offline: bool = False,
) -> BaseChatModel | None:
    """The chat model `spec` names, or None for `none` / `extractive` / empty.

    Builds the client only: nothing is contacted here except, for `hf:`, the local disk
    (and the hub when the model is not cached and `hf_offline`, Settings.hf_hub_offline, is false); `llamacpp:`
    loads the model into this process (once: later calls reuse it).
    Raises ConfigError for a malformed spec, a missing integration, or a model that
    cannot be loaded.
    """
    parsed = parse_spec(spec)
    if parsed is None:
        return None
    provider, model = parsed
    label = f"RAG_LLM={provider}:{model}"
    max_tokens = max_tokens or MAX_ANSWER_TOKENS
    if provider == "llamacpp":
        return _load_llamacpp(model, models_dir, llm_threads, llm_context, timeout_s, max_tokens)
    integration = _import_integration(provider, label)
    if provider == "ollama":
        return integration.ChatOllama(
            model=model,
            base_url=ollama_base_url or DEFAULT_OLLAMA_URL,
            temperature=0,
            num_predict=max_tokens,
            client_kwargs={"timeout": timeout_s},
        )
    if provider == "openai":
        api_key = openai_api_key or ("not-needed" if openai_base_url else None)
        try:
            return integration.ChatOpenAI(
                model=model,
                base_url=openai_base_url,
                api_key=api_key,
                temperature=0,
                max_tokens=max_tokens,
                # Sent as max_completion_tokens, which some local servers (llama.cpp's
                # Python server) ignore; they read the older max_tokens.
                extra_body={"max_tokens": max_tokens} if openai_base_url else None,
                timeout=timeout_s,
                max_retries=1,
            )
        except Exception as err:  # openai.OpenAIError: no key and no local server
            raise ConfigError(
                f"{label}: {err} (set OPENAI_API_KEY, or a base URL for a local OpenAI-compatible server)"
            ) from err
    return _load_hf(integration, model, label, hf_max_new_tokens, hf_offline)


def prepare_process(spec: str | None) -> None:
    """Call at process start, before anything loads OpenMP (torch and llama.cpp can share one
    libgomp): for a `llamacpp:` model, OMP_WAIT_POLICY=PASSIVE unless the user set it, because
    OpenMP reads it once and spinning threads crawl on a busy machine (README "Local model")."""
    if (spec or "").strip().lower().startswith("llamacpp:"):  # validated later, by load_chat_model
        from .llm_llamacpp import use_passive_openmp

        use_passive_openmp()


_DESCRIBE = {
    "en": {"none": "extractive (offline, no LLM)", "at": "{name} at {url}", "compatible": "OpenAI-compatible {model}",
           "local": "Hugging Face {model} (local transformers)", "gguf": "llama.cpp {model} (in this process)"},
    "id": {"none": "ekstraktif (luring, tanpa model bahasa)", "at": "{name} di {url}",
           "compatible": "{model} (kompatibel OpenAI)", "local": "Hugging Face {model} (transformers lokal)",
           "gguf": "llama.cpp {model} (di proses ini)"},
}


def describe(spec: str | None, *, openai_base_url: str | None = None, ollama_base_url: str | None = None,
             language: str = "en") -> str:
    """A short label for the status line, e.g. "Ollama llama3.2 at http://localhost:11434",
    in English or (`language="id"`) Indonesian; `openai_base_url` is the server the OpenAI
    client uses (`Settings.openai_server`)."""
    words = _DESCRIBE["id" if language == "id" else "en"]
    parsed = parse_spec(spec)
    if parsed is None:
        return words["none"]
    provider, model = parsed
    if provider == "llamacpp":
        return words["gguf"].format(model=Path(model).name)
    if provider == "ollama":
        return words["at"].format(name=f"Ollama {model}", url=ollama_base_url or DEFAULT_OLLAMA_URL)
    if provider == "openai":
        if openai_base_url:
            return words["at"].format(name=words["compatible"].format(model=model), url=openai_base_url)
        return words["at"].format(name=f"OpenAI {model}", url=DEFAULT_OPENAI_URL)
    return words["local"].format(model=model)


def is_unreachable(error: BaseException) -> bool:
    """True when `error` means the model service cannot be used right now: connection
    refused, timeout, DNS failure, HTTP 5xx, or model not found (HTTP 404). Follows the
    chain of causes. False for everything else (bad request, auth, bugs)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unreachable_here(current):
            return True
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return False


def failure_reason(error: BaseException) -> str:
    """Why a model call gave no usable answer: `llm_timeout` (it took longer than RAG_LLM_TIMEOUT),
    `llm_unreachable` (no service, see `is_unreachable`), or `llm_error` (anything else)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names = {cls.__name__ for cls in type(current).__mro__}
        if isinstance(current, TimeoutError) or any("Timeout" in name for name in names):
            return "llm_timeout"
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "llm_unreachable" if is_unreachable(error) else "llm_error"


# Errors from modules already imported (an error from a module implies it is imported);
# matching by class name covers the rest, e.g. openai built on httpx2 instead of httpx.
_UNREACHABLE = {
    # langchain-core >= 1.8 classifies provider errors; older versions lack these names.
    "langchain_core.exceptions": ("ModelConnectionError", "ModelTimeoutError", "ModelAPIError", "ModelNotFoundError"),
    "httpx": ("TimeoutException", "NetworkError", "RemoteProtocolError", "ProxyError"),
    "httpx2": ("TimeoutException", "NetworkError", "RemoteProtocolError", "ProxyError"),
    "openai": ("APIConnectionError",),  # includes APITimeoutError
}
_WITH_STATUS = {
    "httpx": ("HTTPStatusError",),
    "httpx2": ("HTTPStatusError",),
    "openai": ("APIStatusError",),  # InternalServerError, NotFoundError, ...
    "ollama": ("ResponseError",),
}
_UNREACHABLE_NAMES = frozenset(
    {"ModelConnectionError", "ModelTimeoutError", "ModelAPIError", "ModelNotFoundError",
     "APIConnectionError", "APITimeoutError", "TimeoutException", "ConnectError", "ConnectTimeout",
     "ReadTimeout", "WriteTimeout", "PoolTimeout", "NetworkError", "ReadError", "WriteError",
     "RemoteProtocolError", "ProxyError", "InternalServerError", "ServiceUnavailableError"}
)
_STATUS_NAMES = frozenset({"APIStatusError", "HTTPStatusError", "ResponseError", "NotFoundError"})
_LOCAL_OS_ERRORS = (FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError, NotADirectoryError)


def _unreachable_here(error: BaseException) -> bool:
    if isinstance(error, (ConnectionError, TimeoutError)):  # includes ollama's ConnectionError
        return True
    if isinstance(error, OSError):  # socket.gaierror and friends, but not local file problems
        return not isinstance(error, _LOCAL_OS_ERRORS)
    names = {cls.__name__ for cls in type(error).__mro__}
    if isinstance(error, _loaded_classes(_UNREACHABLE)) or names & _UNREACHABLE_NAMES:
        return True
    if isinstance(error, _loaded_classes(_WITH_STATUS)) or names & _STATUS_NAMES:
        status = _status_code(error)
        if status is not None and status > 0:
            return status == 404 or status >= 500
        return "not found" in str(error).lower()  # ollama reports a missing model mid-stream
    return False


def _loaded_classes(table: Mapping[str, tuple[str, ...]]) -> tuple[type, ...]:
    found = []
    for module_name, names in table.items():
        module = sys.modules.get(module_name)
        for name in names:
            cls = getattr(module, name, None) if module is not None else None
            if isinstance(cls, type):
                found.append(cls)
    return tuple(found)


def _status_code(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    if status is None:
        status = getattr(getattr(error, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _import_integration(provider: str, label: str) -> ModuleType:
    module, distribution, extra = _INTEGRATIONS[provider]
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ConfigError(f"{label} needs {distribution}: pip install 'rag[{extra}]'") from err


def _load_llamacpp(model: str, models_dir: Path, threads: int | None, context: int, timeout_s: float,
                   max_tokens: int) -> BaseChatModel:
    from .llm_llamacpp import LlamaCppChatModel
    from .models import resolve

    resolved = resolve(model, models_dir)
    chat = LlamaCppChatModel(model_name=resolved.name, model_path=resolved.path, chat_template=resolved.chat_template,
                             threads=threads, context=context, max_tokens=max_tokens, timeout_s=timeout_s)
    chat.load()  # a model that cannot be loaded is a setting to fix, reported now rather than per question
    return chat


def _load_hf(integration: ModuleType, model: str, label: str, max_new_tokens: int, offline: bool) -> BaseChatModel:
    local = Path(model).expanduser().is_dir() or _in_hf_cache(model)
    if offline and not local:
        raise ConfigError(
            f"{label}: {model!r} is not a local folder or in the Hugging Face cache, "
            "and HF_HUB_OFFLINE=1 forbids downloading it"
        )
    source = str(Path(model).expanduser()) if Path(model).expanduser().is_dir() else model
    try:
        pipeline = integration.HuggingFacePipeline.from_model_id(
            model_id=source,
            task="text-generation",
            # Explicit, because huggingface_hub reads HF_HUB_OFFLINE only when imported.
            model_kwargs={"local_files_only": local or offline},
            pipeline_kwargs={"max_new_tokens": max_new_tokens, "do_sample": False, "return_full_text": False},
        )
        # Reuse the pipeline's tokenizer: ChatHuggingFace would otherwise load it again, online.
        return integration.ChatHuggingFace(llm=pipeline, tokenizer=pipeline.pipeline.tokenizer)
    except (OSError, ValueError, ImportError) as err:
        raise ConfigError(f"{label}: cannot load {model!r} with transformers: {err}") from err


def _in_hf_cache(model: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except Exception:  # not a valid repo id, or huggingface_hub missing
        return False
