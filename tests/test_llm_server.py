"""A real OpenAI-compatible server answering through rag's `openai:` provider: llama.cpp's own
server (xllamacpp, prebuilt, started in this process on a free loopback port) with the
small Gemma 3 270M model that `make test` installs (`rag models install gemma3-270m`).

A 270M base model answers poorly; what is checked is the contract: whatever it writes,
every marker points at a given source, every quote is verbatim, or the answer is the
extractive fallback with a notice."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from rag.answer import Assistant
from rag.articles import read_sources
from rag.indexer import build_index
from rag.llm import load_chat_model
from rag.models import CATALOG, GEMMA_CHAT_TEMPLATE, installed
from rag.search import Searcher
from rag.settings import Settings
from tests.conftest import REPO, SEED
from tests.ui_support import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
pytest.importorskip("langchain_openai", reason="needs langchain-openai (pip install 'rag[openai]')")
API_KEY = "test-key"


@pytest.fixture(scope="module")
def server_url():
    folder = Path(os.environ.get("RAG_MODELS_DIR") or REPO / "models")
    if not any(m.name == "gemma3-270m" and m.known for m in installed(folder, CATALOG)):
        pytest.skip(f"gemma3-270m is not installed in {folder}: `rag models install gemma3-270m` (make test does)")
    from rag.llm_llamacpp import import_xllamacpp

    xlc = import_xllamacpp()
    params = xlc.CommonParams()
    params.model.path = str(folder / "gemma3-270m.gguf")
    params.chat_template = GEMMA_CHAT_TEMPLATE
    params.n_ctx, params.n_parallel, params.cache_ram_mib, params.verbosity = 4096, 1, 0, -1
    params.hostnames, params.port, params.api_keys = ["127.0.0.1"], free_port(), [API_KEY]
    server = xlc.Server(params)
    yield f"{server.listening_address}/v1"
    del server


def test_real_server_answers_with_checked_citations(server_url: str, tmp_path: Path) -> None:
    build_index(Settings(index_dir=tmp_path / "index", sources=(SEED,), embedding_model="hash:128",
                         chunk_tokens=64, chunk_overlap_tokens=12), progress=False)
    searcher = Searcher.open(tmp_path / "index")
    llm = load_chat_model("openai:gemma", openai_base_url=server_url, openai_api_key=API_KEY, timeout_s=300,
                          max_tokens=32)
    try:
        started = time.perf_counter()
        answer = Assistant(searcher, llm=llm, min_support=0.0, llm_name="openai:gemma").ask(
            "Siapa yang ditemui Anies di Tokyo?")
        seconds = time.perf_counter() - started
    finally:
        searcher.close()
    print(f"answer in {seconds:.1f}s: {answer.text!r} notice={answer.notice!r}")
    assert answer.mode in ("openai:gemma", "extractive_fallback")
    assert answer.fallback_reason in (None, "llm_unverified"), answer.notice  # the server answered
    body = read_sources([SEED]).articles[0].text
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}
    for citation in answer.citations:
        assert body[citation.start:citation.end] == citation.quote
    assert answer.refused or answer.citations


def test_the_server_refuses_a_wrong_api_key(server_url: str, tmp_path: Path) -> None:
    from langchain_core.messages import HumanMessage

    llm = load_chat_model("openai:gemma", openai_base_url=server_url, openai_api_key="wrong", timeout_s=60,
                          max_tokens=4)
    assert llm is not None
    with pytest.raises(Exception, match="401|[Uu]nauthori|[Ii]nvalid API [Kk]ey"):
        llm.invoke([HumanMessage("Halo")])
