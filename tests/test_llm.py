"""rag.llm: RAG_LLM parsing, client construction, and which errors mean "unreachable".

No test talks to a real model service: the "unreachable" tests point clients at port 9
on loopback (discard), which refuses connections.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.llm import describe, is_unreachable, load_chat_model, parse_spec
from rag.settings import Settings

DEAD_URL = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ADMIN_KEY", "OLLAMA_HOST"):
        monkeypatch.delenv(var, raising=False)


# --- spec parsing -------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "expected"), [
    ("ollama:llama3.2", ("ollama", "llama3.2")),
    ("ollama:qwen2.5:7b-instruct", ("ollama", "qwen2.5:7b-instruct")),
    (" OpenAI : gpt-4o-mini ", ("openai", "gpt-4o-mini")),
    ("hf:Qwen/Qwen2.5-0.5B-Instruct", ("hf", "Qwen/Qwen2.5-0.5B-Instruct")),
])
def test_parse_spec_splits_provider_and_model(spec: str, expected: tuple[str, str]) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", "  ", "none", "None", "extractive", None])
def test_offline_specs_mean_no_llm(spec: str | None) -> None:
    assert parse_spec(spec) is None
    assert load_chat_model(spec) is None
    assert describe(spec) == "extractive (offline, no LLM)"


@pytest.mark.parametrize("spec", ["llama3.2", "anthropic:claude", "ollama:", ":llama3.2", "hf:  "])
def test_malformed_or_unknown_spec_lists_valid_forms(spec: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_chat_model(spec)
    message = str(info.value)
    assert repr(spec) in message
    assert all(form in message for form in ("ollama:MODEL", "openai:MODEL", "hf:MODEL", "none"))


def test_describe_labels() -> None:
    assert describe("ollama:llama3.2") == "Ollama llama3.2 at http://localhost:11434"
    assert describe("ollama:llama3.2", ollama_base_url="http://gpu:11434") == "Ollama llama3.2 at http://gpu:11434"
    assert describe("openai:gpt-4o-mini", openai_base_url="http://127.0.0.1:8000/v1") == (
        "OpenAI-compatible gpt-4o-mini at http://127.0.0.1:8000/v1")
    assert describe("openai:gpt-4o-mini") == "OpenAI gpt-4o-mini at https://api.openai.com/v1"
    assert describe("hf:Qwen/Qwen2.5-0.5B-Instruct").startswith("Hugging Face Qwen/Qwen2.5-0.5B-Instruct")


# --- missing integrations -----------------------------------------------------------

@pytest.mark.parametrize(("spec", "module", "distribution", "extra"), [
    ("ollama:llama3.2", "langchain_ollama", "langchain-ollama", "ollama"),
    ("openai:gpt-4o-mini", "langchain_openai", "langchain-openai", "openai"),
    ("hf:Qwen/Qwen2.5-0.5B-Instruct", "langchain_huggingface", "langchain-huggingface", "hf"),
])
def test_missing_integration_names_the_extra(monkeypatch: pytest.MonkeyPatch, spec: str, module: str,
                                             distribution: str, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ConfigError) as info:
        load_chat_model(spec)
    assert str(info.value) == f"RAG_LLM={spec} needs {distribution}: pip install 'rag[{extra}]'"


def test_importing_rag_llm_imports_no_integration() -> None:
    import subprocess

    code = ("import sys, rag.llm; heavy = [m for m in ('langchain_ollama', 'langchain_openai', "
            "'langchain_huggingface', 'transformers', 'torch', 'openai', 'ollama') if m in sys.modules]; "
            "print(heavy); sys.exit(bool(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# --- openai -------------------------------------------------------------------------

def test_openai_local_server_needs_no_key_and_unreachable_is_detected() -> None:
    langchain_openai = pytest.importorskip("langchain_openai", reason="langchain-openai not installed (extra `openai`)")
    model = load_chat_model("openai:gpt-4o-mini", openai_base_url=DEAD_URL, timeout_s=2)
    assert isinstance(model, langchain_openai.ChatOpenAI)
    assert model.openai_api_base == DEAD_URL
    assert model.model_name == "gpt-4o-mini" and model.temperature == 0 and model.max_retries == 1
    with pytest.raises(Exception) as info:
        model.invoke("halo")
    assert is_unreachable(info.value), repr(info.value)


def test_openai_without_key_or_base_url_is_a_config_error() -> None:
    pytest.importorskip("langchain_openai", reason="langchain-openai not installed (extra `openai`)")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        load_chat_model("openai:gpt-4o-mini")


def test_openai_explicit_key_is_used() -> None:
    pytest.importorskip("langchain_openai", reason="langchain-openai not installed (extra `openai`)")
    model = load_chat_model("openai:gpt-4o-mini", openai_api_key="sk-test", timeout_s=2)
    assert model.openai_api_key.get_secret_value() == "sk-test"


# --- ollama -------------------------------------------------------------------------

def test_ollama_builds_client_and_unreachable_is_detected() -> None:
    langchain_ollama = pytest.importorskip("langchain_ollama", reason="langchain-ollama not installed (extra `ollama`)")
    model = load_chat_model("ollama:llama3.2", ollama_base_url=DEAD_URL, timeout_s=2)
    assert isinstance(model, langchain_ollama.ChatOllama)
    assert model.base_url == DEAD_URL and model.model == "llama3.2" and model.temperature == 0
    with pytest.raises(Exception) as info:
        model.invoke("halo")
    assert is_unreachable(info.value), repr(info.value)


def test_ollama_defaults_to_localhost() -> None:
    pytest.importorskip("langchain_ollama", reason="langchain-ollama not installed (extra `ollama`)")
    assert load_chat_model("ollama:llama3.2").base_url == "http://localhost:11434"


# --- is_unreachable -----------------------------------------------------------------

@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connection refused"),
    ConnectionError("Failed to connect to Ollama"),
    TimeoutError(),
    socket.gaierror(-2, "Name or service not known"),
    OSError(113, "No route to host"),
])
def test_network_os_errors_are_unreachable(error: BaseException) -> None:
    assert is_unreachable(error)


@pytest.mark.parametrize("error", [
    ValueError("bad prompt"), KeyError("x"), FileNotFoundError("prompt.txt"), PermissionError(), ConfigError("x"),
])
def test_other_errors_are_not_unreachable(error: BaseException) -> None:
    assert not is_unreachable(error)


def test_cause_chain_is_followed() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as err:
            raise RuntimeError("chat failed") from err
    except RuntimeError as wrapped:
        assert is_unreachable(wrapped)


def test_unknown_modules_are_matched_by_class_name() -> None:
    class APITimeoutError(Exception):
        pass

    class ResponseError(Exception):
        def __init__(self, message: str, status_code: int) -> None:
            super().__init__(message)
            self.status_code = status_code

    assert is_unreachable(APITimeoutError())
    assert is_unreachable(ResponseError("model 'x' not found", 404))
    assert is_unreachable(ResponseError("overloaded", 503))
    assert not is_unreachable(ResponseError("bad request", 400))


def test_langchain_core_model_errors() -> None:
    from langchain_core import exceptions

    if not hasattr(exceptions, "ModelConnectionError"):
        pytest.skip("langchain-core < 1.8 has no provider-neutral model errors")
    for name in ("ModelConnectionError", "ModelTimeoutError", "ModelAPIError", "ModelNotFoundError"):
        assert is_unreachable(getattr(exceptions, name)("x")), name
    for name in ("ModelAuthenticationError", "ModelInvalidRequestError", "ContextOverflowError"):
        assert not is_unreachable(getattr(exceptions, name)("x")), name


def test_httpx_errors() -> None:
    httpx = pytest.importorskip("httpx", reason="httpx not installed")
    request = httpx.Request("POST", DEAD_URL)
    assert is_unreachable(httpx.ConnectError("refused", request=request))
    assert is_unreachable(httpx.ReadTimeout("slow", request=request))
    for status, expected in ((502, True), (404, True), (401, False), (422, False)):
        response = httpx.Response(status, request=request)
        error = httpx.HTTPStatusError("status", request=request, response=response)
        assert is_unreachable(error) is expected, status


def test_openai_errors() -> None:
    openai = pytest.importorskip("openai", reason="openai not installed (extra `openai`)")
    http = sys.modules.get("httpx2") or sys.modules["httpx"]  # whichever openai is built on
    request = http.Request("POST", DEAD_URL)

    def status_error(cls: type, status: int) -> BaseException:
        return cls("error", response=http.Response(status, request=request), body=None)

    assert is_unreachable(openai.APIConnectionError(request=request))
    assert is_unreachable(openai.APITimeoutError(request=request))
    assert is_unreachable(status_error(openai.InternalServerError, 500))
    assert is_unreachable(status_error(openai.NotFoundError, 404))
    assert not is_unreachable(status_error(openai.AuthenticationError, 401))
    assert not is_unreachable(status_error(openai.BadRequestError, 400))


def test_ollama_errors() -> None:
    ollama = pytest.importorskip("ollama", reason="ollama not installed (extra `ollama`)")
    assert is_unreachable(ollama.ResponseError("model 'llama3.2' not found", 404))
    assert is_unreachable(ollama.ResponseError("llama runner process has terminated", 500))
    assert is_unreachable(ollama.ResponseError("model 'llama3.2' not found"))  # mid-stream, no status
    assert not is_unreachable(ollama.ResponseError("invalid options", 400))


# --- hf -----------------------------------------------------------------------------

def test_hf_model_not_available_offline_is_a_config_error() -> None:
    pytest.importorskip("langchain_huggingface", reason="langchain-huggingface not installed (extra `hf`)")
    # conftest sets HF_HUB_OFFLINE=1, so this must fail fast without touching the network.
    with pytest.raises(ConfigError, match="HF_HUB_OFFLINE"):
        load_chat_model("hf:nobody/no-such-model-for-rag-tests", hf_offline=Settings.from_env().hf_hub_offline)


def _tiny_chat_model(folder: Path) -> None:
    """A random 1-layer GPT-2 with a word-level tokenizer and a chat template, built locally."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = ["<unk>", "<eos>", "halo", "apa", "kabar", "baik", "user", "assistant", ":"]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", eos_token="<eos>")
    fast.chat_template = ("{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} {% endfor %}"
                          "{% if add_generation_prompt %}assistant :{% endif %}")
    config = GPT2Config(vocab_size=len(words), n_positions=64, n_embd=16, n_layer=1, n_head=2,
                        bos_token_id=1, eos_token_id=1)
    GPT2LMHeadModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)


@pytest.mark.slow
def test_hf_loads_a_local_folder_offline_and_answers(tmp_path: Path) -> None:
    langchain_huggingface = pytest.importorskip("langchain_huggingface",
                                                reason="langchain-huggingface not installed (extra `hf`)")
    pytest.importorskip("transformers", reason="transformers not installed")
    _tiny_chat_model(tmp_path / "tiny")
    model = load_chat_model(f"hf:{tmp_path / 'tiny'}", hf_max_new_tokens=4)
    assert isinstance(model, langchain_huggingface.ChatHuggingFace)
    first = model.invoke("halo apa kabar").content
    assert isinstance(first, str)
    assert "user :" not in first  # only the generated text, not the prompt
    assert model.invoke("halo apa kabar").content == first  # greedy: deterministic


def test_describe_labels_in_indonesian() -> None:
    assert describe(None, language="id") == "ekstraktif (luring, tanpa model bahasa)"
    assert describe("ollama:llama3.2", language="id") == "Ollama llama3.2 di http://localhost:11434"
    assert describe("openai:gpt-4o-mini", openai_base_url="http://127.0.0.1:8000/v1", language="id") == (
        "gpt-4o-mini (kompatibel OpenAI) di http://127.0.0.1:8000/v1")
    assert describe("hf:Qwen/Qwen2.5-0.5B-Instruct", language="id").endswith("(transformers lokal)")
