"""Shared fixtures. Tests never touch the real index/ or the network."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from pathlib import Path

import pytest

from rag.embeddings.hashing import HashingEmbedder
from rag.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "antara-2022-08-13-anies-kunjungi-jepang.txt"
SHARED_DATA = REPO.parent / "shared" / "data"


# -- how `make test` shares the files between its workers (`-n 3 --dist loadfile`) ---------

# Files that import the same heavy library (Gradio: ~7 s of CPU per process; torch and
# transformers: ~10 s) go to one worker together, which then pays for it once.
SHARED_WORKER = {
    "test_browser.py": "gradio", "test_webapp.py": "gradio", "test_uploads.py": "gradio", "test_llamacpp.py": "gradio",
    "test_embeddings.py": "torch", "test_e5_onnx.py": "torch", "test_llm.py": "torch",
}
# The longest units first (seconds of one worker, `--durations`), so that no long file
# starts last while the other worker has nothing left to do; the rest follow in file order.
LONGEST_FIRST = ("gradio", "torch", "test_hostile.py", "test_server_mode.py", "test_answer_stuffing.py",
                 "test_sources.py", "test_indexer.py", "test_models.py", "test_ui.py", "test_cli.py", "test_answer.py")


def _unit(path: str) -> str:
    name = path.rpartition("/")[2]
    return SHARED_WORKER.get(name, name)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` with two changes: the files of SHARED_WORKER are one unit of work,
    and units are handed out in the workers' collection order (longest first, below)
    instead of by their number of tests. A file's tests still stay in one worker, with its
    module fixtures (a served app, a browser, a real index) set up once."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedFileScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(super()._split_scope(nodeid))

    config.option.loadscopereorder = False
    return SharedFileScheduling(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker: the units of LONGEST_FIRST first (a stable sort: file order otherwise)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_unit(item.nodeid.split("::", 1)[0]), len(rank)))


# -- every test -------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    for var in ("RAG_EMBEDDING_MODEL", "RAG_EMBEDDING_FALLBACK", "RAG_SOURCES", "RAG_CHUNK_TOKENS"):
        monkeypatch.delenv(var, raising=False)


def _model_files_state(spec: str, settings: Settings) -> tuple:
    """What a model's loading reads from outside its package: for `e5:bundled` the converted
    checkpoint in the cache (rebuilt when missing or changed), for a local folder its files."""
    provider, _, model = spec.partition(":")
    if provider == "e5":
        from rag.embeddings.e5 import cache_dir

        folder = cache_dir(settings.cache_home)
    else:
        folder = Path(model if provider == "st" else spec)
        if not folder.is_absolute() or not folder.exists():
            return ()
    return tuple(sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()))


@pytest.fixture(scope="session", autouse=True)
def _each_model_loaded_once() -> Iterator[None]:
    """Each real embedding model is loaded once per test process (xdist worker), not once per
    index build and searcher: `rag.embeddings` hands out a shallow copy of the first load
    (the same weights, its own `fallback_reason`), keyed by the spec, what the settings say
    about the hub and the cache, and the state of the files the load reads. Failures are not
    kept: each test that expects one gets it from a real attempt. `hash:` is never kept."""
    import copy

    from rag import embeddings

    load = embeddings._load_one
    loaded: dict[tuple, embeddings.Embedder] = {}

    def load_once(spec: str, settings: Settings) -> embeddings.Embedder:
        if spec.startswith("hash:"):
            return load(spec, settings)
        key = (spec, settings.cache_home, settings.hf_hub_offline, settings.hf_endpoint, _model_files_state(spec, settings))
        if key not in loaded:
            embedder = load(spec, settings)
            key = key[:-1] + (_model_files_state(spec, settings),)  # after a first conversion into the cache
            loaded[key] = embedder
        return copy.copy(loaded[key])

    patch = pytest.MonkeyPatch()
    patch.setattr(embeddings, "_load_one", load_once)
    yield
    patch.undo()


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder(128)


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


@pytest.fixture
def settings(tmp_path: Path, articles_dir: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", sources=(articles_dir,), embedding_model="hash:128",
                    embedding_fallback="none", chunk_tokens=64, chunk_overlap_tokens=12)


# -- the `rag` command in this process ------------------------------------------------------

RunRag = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def rag_main(capsys: pytest.CaptureFixture[str]) -> RunRag:
    """Runs `rag ARGS...` as `rag.cli.main(ARGS)` in this process and returns what a
    subprocess run would (exit status, stdout, stderr): the same command line without paying
    a fresh interpreter and the torch/Chroma imports each time. `env` replaces the
    environment for the call, `cwd` is the working folder. Tests about the process itself
    (signals, kill -9, what `rag serve` prints) start a real one instead."""
    from rag.cli import main

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
        capsys.readouterr()
        with pytest.MonkeyPatch.context() as patch:
            if env is not None:
                for name in set(os.environ) - set(env):
                    patch.delenv(name)
                for name, value in env.items():
                    patch.setenv(name, value)
            if cwd is not None:
                patch.chdir(cwd)
            try:
                status = main(list(args))
            except SystemExit as exit_info:  # argparse errors and --help
                status = exit_info.code if isinstance(exit_info.code, int) else 2
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["rag", *args], status, out, err)

    return run


# -- the store in both modes: embedded Chroma and a real `chroma run` ---------------------

STORE_MODES = ["embedded", "server"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (`chroma run`) on a free port, for the whole session."""
    binary = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(binary).is_file():
        pytest.skip("the `chroma` command (from the chromadb package) is not installed")
    root = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(root / "server.log", "wb")
    server = subprocess.Popen([binary, "run", "--path", str(root / "data"), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"`chroma run` did not start: {(root / 'server.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def in_mode(settings: Settings, mode: str, request: pytest.FixtureRequest) -> Settings:
    """`settings` for an embedded index, or for a fresh collection on the test Chroma server
    (RAG_INDEX_DIR then holds only the reader's cache)."""
    if mode == "embedded":
        return settings
    return settings.replace(chroma_url=request.getfixturevalue("chroma_url"), collection=f"t{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=STORE_MODES)
def store_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """`settings`, once for the embedded store and once for the Chroma server."""
    return in_mode(settings, request.param, request)

