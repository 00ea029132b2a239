"""The chat app served for real on a free port, driven through `gradio_client` and HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rag.answer import Assistant
from rag.articles import read_sources
from rag.guards import LoginGuard
from rag.indexer import build_index
from rag.search import Searcher
from rag.settings import Settings
from rag.store import open_index
from rag.ui import ChatService
from rag.ui_text import text
from tests.conftest import REPO, SEED
from tests.ui_support import UI_EMBEDDER, free_port, index_ui_corpus, running_app, wait_for_port

pytestmark = pytest.mark.e2e
gradio_client = pytest.importorskip("gradio_client")

QUESTION = "Apa yang dibahas Anies dengan Gubernur Tokyo?"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return index_ui_corpus(tmp_path_factory.mktemp("webapp"))


@pytest.fixture(scope="module")
def url(indexed: Settings):
    with running_app(indexed, min_interval_s=0) as address:
        yield address


@pytest.fixture(scope="module")
def client(url: str):
    return gradio_client.Client(url, verbose=False)


def test_ask_endpoint_returns_the_answer_as_data(client, indexed: Settings) -> None:
    data = client.predict(QUESTION, "", "", "", api_name="/ask")
    assert not data["refused"] and data["citations"]
    bodies = {a.id: a.text for a in read_sources(list(indexed.sources)).articles}
    for citation in data["citations"]:
        assert f"[{citation['n']}]" in data["answer"]
        assert bodies[citation["article_id"]][citation["start"]:citation["end"]] == citation["quote"]
    assert data["citations"][0]["source"] == "ANTARA"
    for sentence in data["sentences"]:  # each sentence with its own span, as in `rag ask --json`
        for cite in sentence["citations"]:
            assert sentence["text"] in cite["quote"]
            assert bodies[data["citations"][cite["n"] - 1]["article_id"]][cite["start"]:cite["end"]] == cite["quote"]


def test_chat_endpoint_streams_and_fills_the_sources_panel(client) -> None:
    job = client.submit(QUESTION, [], "", "", "", "auto", api_name="/chat")
    outputs = list(job)
    assert len(outputs) > 2, "the answer arrives in several updates"
    cleared, messages, sources, data = outputs[-1]
    assert cleared == ""
    assert [m["role"] for m in messages] == ["user", "assistant"]
    reply = messages[-1]["content"][0]["text"]
    assert "(#rag-src-0-1-0)" in reply, "the first marker points at the first span of source 1"
    assert 'id="rag-src-0-1"' in sources and '<mark id="rag-src-0-1-0">' in sources
    assert data["citations"][0]["n"] == 1
    partial = outputs[1][1][-1]["content"][0]["text"]
    assert len(partial) < len(reply), "earlier updates hold part of the text"


def test_filters_apply_through_the_api(client) -> None:
    data = client.predict(QUESTION, "2023-01-01", "", "", api_name="/ask")
    assert data["refused"] and not data["citations"]
    data = client.predict(QUESTION, "", "", "sportivo", api_name="/ask")
    assert all(c["source"] == "sportivo" for c in data["citations"])
    *_, data = client.predict(QUESTION, [], "2023-01-01", "", "", "en", api_name="/chat")
    assert data["refused"]
    seed = "antara-2022-08-13-anies-kunjungi-jepang"  # published 13 August 2022 13:56 WIB
    data = client.predict(QUESTION, "", "2022-08-13", "", api_name="/ask")
    assert seed in {c["article_id"] for c in data["citations"]}, "until includes its day"
    data = client.predict(QUESTION, "", "2022-08-12", "", api_name="/ask")
    assert seed not in {c["article_id"] for c in data.get("citations", [])}


def test_oversized_and_empty_questions_are_refused_with_a_message(client) -> None:
    data = client.predict("kenapa " * 400, "", "", "", api_name="/ask")
    assert "batasnya 1000" in data["error"]
    _, messages, _, data = client.predict("   ", [], "", "", "", "en", api_name="/chat")
    assert "empty" in data["error"] and "empty" in messages[-1]["content"][0]["text"]


def test_status_endpoint_describes_the_index(client) -> None:
    line = client.predict("en", api_name="/status")
    assert "articles" in line and UI_EMBEDDER in line and "extractive" in line


def test_file_routes_serve_nothing_private(url: str, indexed: Settings, tmp_path: Path) -> None:
    secret = tmp_path / ".env"
    secret.write_text("RAG_OPENAI_API_KEY=sk-secret\n")
    live = next(indexed.index_dir.glob("gen-*/manifest.json"))
    article = next(indexed.sources[0].glob("*.txt"))
    targets = ["/etc/passwd", str(live), str(article), str(SEED), str(secret), str(REPO / ".env"), "index/CURRENT",
               "../../../../etc/passwd", "/proc/self/environ"]
    with httpx.Client(base_url=url.rstrip("/")) as http:
        for target in targets:
            for route in ("/gradio_api/file=", "/file=", "/gradio_api/file/"):
                response = http.get(route + target)
                assert response.status_code in (403, 404), (route + target, response.status_code)
                assert "sk-secret" not in response.text and "root:" not in response.text


def test_login_is_required_when_auth_is_set(indexed: Settings) -> None:
    with running_app(indexed.replace(auth="ana:rahasia")) as address:
        assert httpx.get(address + "gradio_api/info").status_code in (401, 403)
        with pytest.raises(Exception):
            gradio_client.Client(address, verbose=False)
        authed = gradio_client.Client(address, auth=("ana", "rahasia"), verbose=False)
        assert authed.predict(QUESTION, "", "", "", api_name="/ask")["citations"]


class _SlowAssistant(Assistant):
    """The real assistant, a second late in answering: enough to fill a tiny queue."""

    def stream(self, *args, **kwargs):
        time.sleep(1.0)
        yield from super().stream(*args, **kwargs)


def test_a_full_queue_turns_questions_away_in_the_questions_language(indexed: Settings) -> None:
    from rag.webapp import build_app, launch

    settings = indexed.replace(server_port=free_port(), queue_size=1, concurrency=1)
    service = ChatService(settings, open_assistant=lambda s: _SlowAssistant(Searcher.open(open_index(s))))
    demo = build_app(service)
    launch(demo, settings, prevent_thread_lock=True, quiet=True)
    try:
        client = gradio_client.Client(f"http://127.0.0.1:{settings.server_port}/", verbose=False)

        def ask(n: int) -> str:
            try:
                if n % 2:
                    *_, data = client.predict("Who did the Jakarta governor meet in Japan?", [], "", "", "", "en",
                                              api_name="/chat")
                else:
                    data = client.predict(QUESTION, "", "", "", api_name="/ask")
                return data.get("error") or "answered"
            except Exception as err:  # gradio_client raises QueueError for Gradio's own full queue
                return str(err)

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(ask, range(8)))
        assert results.count("answered") >= 2, results  # one answered at once, one waited its turn
        assert set(results) - {"answered"} == {text("id", "busy"), text("en", "busy")}, results
    finally:
        demo.close()


def test_uploads_only_take_article_files_up_to_the_size_limit(indexed: Settings) -> None:
    with running_app(indexed.replace(max_file_mb=1)) as address, httpx.Client(base_url=address.rstrip("/")) as http:
        ok = http.post("/gradio_api/upload", files={"files": ("kabar.txt", b"Berita hari ini.")})
        assert ok.status_code == 200 and ok.json()[0].endswith("kabar.txt")
        for name, body in (("gambar.svg", b"<svg onload=alert(1)></svg>"), ("x.bin", b"\x00" * 100)):
            refused = http.post("/gradio_api/upload", files={"files": (name, body)})
            assert refused.status_code == 415 and ".jsonl" in refused.text, (name, refused.status_code)
        big = http.post("/gradio_api/upload", files={"files": ("besar.txt", b"a" * (2 * 1024 * 1024))})
        assert big.status_code == 413
        assert http.post("/gradio_api/process_recording", files={"video": ("v.mp4", b"x")}).status_code == 404
    uploads = Path(os.environ.get("GRADIO_TEMP_DIR", Path(tempfile.gettempdir()) / "gradio"))
    assert not list(uploads.rglob("gambar.svg")) and not list(uploads.rglob("besar.txt"))


def test_wrong_logins_are_slowed_down_then_locked_out(indexed: Settings) -> None:
    with running_app(indexed.replace(auth="ana:rahasia")) as address:
        def login(password: str) -> tuple[int, float]:
            started = time.monotonic()
            response = httpx.post(address + "login", data={"username": "ana", "password": password}, timeout=30)
            return response.status_code, time.monotonic() - started

        assert login("rahasia")[0] == 200
        with ThreadPoolExecutor(8) as pool:  # eight guesses at once: five count, then the door is shut
            wrong = list(pool.map(login, [f"tebak{i}" for i in range(8)]))
        assert all(code == 400 and seconds >= 0.9 for code, seconds in wrong), wrong
        assert login("rahasia")[0] == 400, "the right password is refused during the lock-out"
        with pytest.raises(Exception):
            gradio_client.Client(address, auth=("ana", "rahasia"), verbose=False)


def test_login_guard_opens_again_after_its_window() -> None:
    now = [0.0]
    guard = LoginGuard("ana", "rahasia", max_failures=3, window_s=60, clock=lambda: now[0])
    assert not any(guard.check("ana", "salah") for _ in range(3))
    assert not guard.check("ana", "rahasia") and guard.locked()
    now[0] = 59.9
    assert not guard.check("ana", "rahasia")
    now[0] = 60.0
    assert guard.check("ana", "rahasia") and not guard.check("ani", "rahasia")


@pytest.mark.parametrize("auth", [":p", "ana:", ":", " ana:p", "ana"])
def test_rag_auth_without_a_user_or_a_password_is_refused(tmp_path: Path, auth: str, rag_main) -> None:
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "empty"), "RAG_AUTH": auth, "RAG_SERVER_PORT": str(free_port())}
    result = rag_main("serve", env=env)
    assert result.returncode == 2 and "RAG_AUTH must be `user:password`" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_app_py_starts_and_says_how_to_build_a_missing_index(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "empty"), "RAG_SERVER_PORT": str(port)}
    process = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port)
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert "rag index" in client.predict("en", api_name="/status")
        assert "rag index" in client.predict(QUESTION, "", "", "", api_name="/ask")["error"]
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "Traceback" not in output, output
    assert f"rag: chat UI on http://127.0.0.1:{port}/ · no index in " in output and "rag index" in output
    assert "share=True" not in output and "Running on local URL" not in output, "Gradio's own lines are replaced"


@pytest.mark.slow
def test_rag_serve_prints_one_line_of_its_own(indexed: Settings) -> None:
    port = free_port()
    env = {**os.environ, "RAG_INDEX_DIR": str(indexed.index_dir), "RAG_SERVER_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "rag", "serve"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    # The line comes once Gradio's launch returns, which can be seconds after the port opens
    # on a busy machine: read up to it (a hang ends at the timer: the test fails, not the suite).
    timer = threading.Timer(120, process.terminate)
    timer.start()
    early: list[str] = []
    try:
        for text_line in process.stdout:
            early.append(text_line)
            if text_line.startswith("rag: "):
                break
        wait_for_port(port)
        time.sleep(1)  # anything Gradio would print after it
    finally:
        timer.cancel()
        process.terminate()
        output = "".join(early) + process.communicate(timeout=30)[0]
    (line,) = [ln for ln in output.splitlines() if ln.startswith("rag: ")]
    assert line.startswith(f"rag: chat UI on http://127.0.0.1:{port}/ · index {indexed.index_dir}/: ")
    assert " articles, " in line and f" chunks · embedder {UI_EMBEDDER} · " in line
    assert line.endswith("answers: extractive (offline, no LLM)")
    assert "share=True" not in output and "Running on local URL" not in output, output


def test_app_refuses_to_listen_publicly_without_login(tmp_path: Path, rag_main) -> None:
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "empty"), "RAG_SERVER_NAME": "0.0.0.0",
           "RAG_SERVER_PORT": str(free_port())}
    result = rag_main("serve", env=env)
    assert result.returncode == 2 and "RAG_AUTH" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_two_apps_and_an_indexer_share_one_chroma_server(tmp_path: Path, chroma_url: str) -> None:
    """Two `rag serve` processes answer from one Chroma server while `rag index` publishes
    a new generation: no errors, the same answers, and both pick up the new article."""
    import uuid

    settings = index_ui_corpus(tmp_path / "indexer", chroma_url=chroma_url, collection=f"apps{uuid.uuid4().hex[:8]}")
    apps, ports = [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            env = {**os.environ, "RAG_CHROMA_URL": chroma_url, "RAG_COLLECTION": settings.collection,
                   "RAG_INDEX_DIR": str(tmp_path / f"app-{name}"), "RAG_SERVER_PORT": str(port)}
            apps.append(subprocess.Popen([sys.executable, "-m", "rag", "serve"], env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True))
            ports.append(port)
        for port in ports:
            wait_for_port(port)
        clients = [gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False) for port in ports]
        first = [c.predict(QUESTION, "", "", "", api_name="/ask") for c in clients]
        assert first[0]["citations"] and first[0]["answer"] == first[1]["answer"]

        extra = settings.sources[0] / "tambahan.txt"
        extra.write_text((settings.sources[0] / "pasar-apung.txt").read_text().replace("Lok Baintan", "Kuin"))
        build_index(settings, progress=False)
        question = "Berapa wisatawan yang mengunjungi pasar apung Kuin?"
        deadline = time.monotonic() + 120
        seen: list[set[str]] = [set(), set()]
        while time.monotonic() < deadline and not all("tambahan" in s for s in seen):
            for i, client in enumerate(clients):  # each keeps answering while it switches
                data = client.predict(question, "", "", "", api_name="/ask")
                assert "error" not in data, data
                seen[i] |= {c["article_id"] for c in data["citations"]}
            time.sleep(0.5)
        assert all("tambahan" in s for s in seen), seen
        after = [c.predict(question, "", "", "", api_name="/ask") for c in clients]
        assert after[0]["answer"] == after[1]["answer"]
    finally:
        for app in apps:
            app.terminate()
        outputs = [app.communicate(timeout=30)[0] for app in apps]
    for output in outputs:
        assert "Traceback" not in output, output
