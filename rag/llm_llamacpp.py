"""`RAG_LLM=llamacpp:MODEL`: a GGUF model run by llama.cpp inside this process (xllamacpp).

The model is loaded once per process (the UI and `rag ask` share one copy however often
the assistant is reopened) and answers as a LangChain chat model, so it goes through the
same prompt, citation checks and refusal as every other provider (see llm.py, answer.py).
Tokens are streamed as llama.cpp produces them. A call that runs past `timeout_s` is
stopped and raises `LocalModelTimeout` (a TimeoutError): the caller falls back to the
extractive answer.

Runtime choices, measured on 2 shared cores (README "Local model"):
  - OMP_WAIT_POLICY=PASSIVE unless set: with spinning OpenMP threads on a busy machine,
    generation fell below 1 token/s.
  - the server's RAM prompt cache is off (`cache_ram_mib=0`): it grew memory by GBs; the
    slot still reuses the previous prompt's prefix (the system prompt) from its KV cache.
  - one slot: a second question waits for the first instead of halving both.
xllamacpp also opens llama.cpp's HTTP server on a random loopback port; it is locked with a
random API key that nothing is told, so only this process can use the model.

Left out: GPU offload, several models at once, embeddings through llama.cpp.
"""

from __future__ import annotations

import importlib
import os
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from .errors import ConfigError

_SERVERS: dict[tuple[str, int | None, int, str | None], Any] = {}
_LOAD_LOCK = threading.Lock()


class LocalModelTimeout(TimeoutError):
    """The local model did not finish within the timeout (it was stopped)."""


def use_passive_openmp() -> None:
    """OMP_WAIT_POLICY=PASSIVE unless the user set it: the one place rag writes the environment
    (a process set-up, read by OpenMP when it loads; see `rag.llm.prepare_process`)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def import_xllamacpp() -> Any:
    """xllamacpp, imported with OMP_WAIT_POLICY=PASSIVE unless the user chose otherwise
    (OpenMP reads it once, when the library loads)."""
    use_passive_openmp()
    try:
        return importlib.import_module("xllamacpp")
    except ImportError as err:
        raise ConfigError("RAG_LLM=llamacpp:... needs xllamacpp: pip install 'rag[llamacpp]'") from err


def load_server(path: Path, *, threads: int | None, context: int, chat_template: str | None) -> Any:
    """The llama.cpp server for this model file and settings, loaded on first use."""
    key = (str(path.resolve()), threads, context, chat_template)
    with _LOAD_LOCK:
        server = _SERVERS.get(key)
        if server is None:
            xlc = import_xllamacpp()
            params = xlc.CommonParams()
            params.model.path = key[0]
            params.n_ctx = context
            params.n_parallel = 1
            if threads is not None:
                params.cpuparams.n_threads = threads
                params.cpuparams_batch.n_threads = threads
            params.cache_ram_mib = 0
            params.warmup = False
            params.verbosity = -1
            params.ui = False
            params.n_threads_http = 1
            params.api_keys = [secrets.token_urlsafe(32)]
            if chat_template is not None:
                params.chat_template = chat_template
            try:
                server = xlc.Server(params)
            except RuntimeError as err:
                raise ConfigError(f"llama.cpp cannot load {path}: {err} (a GGUF file of a supported model, "
                                  f"RAG_LLM_CONTEXT={context}?)") from err
            _SERVERS[key] = server
        return server


class LlamaCppChatModel(BaseChatModel):
    """A GGUF model in this process as a LangChain chat model (greedy decoding)."""

    model_name: str
    model_path: Path
    chat_template: str | None = None
    threads: int | None = None
    context: int = 4096
    max_tokens: int = 400
    timeout_s: float = 60.0

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "model_path": str(self.model_path), "threads": self.threads,
                "context": self.context}

    def load(self) -> Any:
        return load_server(self.model_path, threads=self.threads, context=self.context,
                           chat_template=self.chat_template)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        pieces: list[str] = []
        metadata: dict[str, Any] = {}
        for chunk in self._stream(messages, stop=stop, run_manager=run_manager, **kwargs):
            pieces.append(chunk.text)
            metadata.update(chunk.message.response_metadata)
        message = AIMessage("".join(pieces), response_metadata=metadata)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        server = self.load()
        request: dict[str, Any] = {
            "messages": convert_to_openai_messages(messages), "stream": True, "max_tokens": self.max_tokens,
            "temperature": 0, "top_k": 1, "seed": 0, "cache_prompt": True,
        }
        if stop:
            request["stop"] = stop
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        cancelled = threading.Event()

        def on_chunk(chunk: Any) -> bool:
            events.put(("chunk", chunk))
            return cancelled.is_set()  # True stops generation

        def generate() -> None:
            try:
                server.handle_chat_completions(request, on_chunk)
            except BaseException as err:  # handed to the caller's thread
                events.put(("error", err))
            finally:
                events.put(("done", None))

        # Not a daemon: a generation still running when the process exits (after a timeout, it
        # stops at its next token) must end before llama.cpp is torn down, or the process aborts.
        worker = threading.Thread(target=generate, name="llamacpp-generate", daemon=False)
        started = time.monotonic()
        worker.start()
        try:
            while True:
                remaining = started + self.timeout_s - time.monotonic()
                try:
                    kind, item = events.get(timeout=max(remaining, 0.0))
                except queue.Empty:
                    raise LocalModelTimeout(f"{self.model_name} gave no complete answer within {self.timeout_s:g} s "
                                            "(RAG_LLM_TIMEOUT)") from None
                if kind == "done":
                    return
                if kind == "error":
                    raise item
                chunk = _chat_chunk(item)
                if chunk is not None:
                    if run_manager is not None:  # also the last, empty chunk: it carries the timings
                        run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                    yield chunk
        finally:
            cancelled.set()  # the caller stopped reading, timed out or failed: stop generating


def _chat_chunk(data: Any) -> ChatGenerationChunk | None:
    """One OpenAI-style streamed chunk as LangChain's; llama.cpp's timings ride on the last one."""
    if not isinstance(data, dict):
        return None
    if "error" in data:
        error = data["error"]
        raise RuntimeError(error.get("message", str(error)) if isinstance(error, dict) else str(error))
    choices = data.get("choices") or [{}]
    content = (choices[0].get("delta") or {}).get("content") or ""
    metadata: dict[str, Any] = {}
    if choices[0].get("finish_reason"):
        metadata["finish_reason"] = choices[0]["finish_reason"]
    if "timings" in data:
        metadata["timings"] = data["timings"]
    if not content and not metadata:
        return None
    return ChatGenerationChunk(message=AIMessageChunk(content=content, response_metadata=metadata))
