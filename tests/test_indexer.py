from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.errors import IndexLocked, IndexMismatch, IndexNotFound
from rag.indexer import build_index, writer_lock
from rag.search import Searcher
from rag.settings import Settings
from rag.store import IndexDir
from tests.conftest import REPO, SEED
from tests.corpus import write_all

ARTICLE = """Banjir rendam {place}
Senin, 2 Januari 2023 08:00 WIB

Banjir setinggi satu meter merendam ratusan rumah warga di {place} sejak Minggu malam.
Warga mengungsi ke masjid dan sekolah terdekat. Petugas membagikan makanan dan selimut.
Kepala desa {place} meminta bantuan perahu karet dari pemerintah kabupaten.
"""


def all_chunk_texts(index_dir: Path) -> list[str]:
    index = Searcher.open(index_dir)
    try:
        return index.generation.collection.get(include=["documents"])["documents"]
    finally:
        index.close()


# The round trip, a second run and edit/delete/add run over both stores in test_server_mode.py.


def test_same_article_under_two_names_is_stored_once(settings: Settings, embedder, articles_dir: Path) -> None:
    shutil.copy(SEED, articles_dir / "copy-of-seed.txt")
    summary = build_index(settings, embedder=embedder, progress=False)
    assert summary.added == 1
    assert any("duplicate of" in s.reason for s in summary.skipped_files)


def test_search_finds_the_article_with_its_metadata(settings: Settings, embedder) -> None:
    build_index(settings, embedder=embedder, progress=False)
    index = Searcher.open(settings.index_dir)  # the embedder comes from the manifest
    try:
        (hit,) = index.search("Anies Gubernur Tokyo Koike", k=3)
    finally:
        index.close()
    assert hit.title == "Anies kunjungi Jepang bahas kerja sama transportasi publik"
    assert hit.published == "2022-08-13T13:56:00+07:00" and hit.source == "ANTARA"
    assert hit.author == "Dewa Ketut Sudiarta Wiguna"
    assert 0 < hit.score <= 1


def test_no_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="rag index"):
        Searcher.open(tmp_path / "nothing")


def test_index_built_differently_must_be_rebuilt(settings: Settings, embedder) -> None:
    build_index(settings, embedder=embedder, progress=False)
    with pytest.raises(IndexMismatch, match="--rebuild"):
        build_index(settings.replace(chunk_tokens=100), embedder=embedder, progress=False)
    summary = build_index(settings.replace(chunk_tokens=100), embedder=embedder, progress=False, rebuild=True)
    assert summary.added == 1


def test_a_second_writer_is_refused(settings: Settings) -> None:
    index = IndexDir(settings.index_dir)
    with writer_lock(index):
        with pytest.raises(IndexLocked, match="another `rag index`"):
            with writer_lock(index):
                pass
    with writer_lock(index):  # released again
        pass


# A failed write: test_server_mode.py, over both stores.


def test_bad_inputs_do_not_stop_the_run(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    expectations = write_all(corpus, big_file_mb=11)
    settings = Settings(index_dir=tmp_path / "index", sources=(corpus,), embedding_model="hash:128")
    summary = build_index(settings, embedder=embedder, progress=False)
    assert summary.added == sum(e.indexed for e in expectations)
    skipped_files = {Path(s.path.split(":")[0]).name for s in summary.skipped_files}
    assert {Path(e.path).name for e in expectations if e.indexed == 0} <= skipped_files
    texts = "\n".join(all_chunk_texts(settings.index_dir))
    assert "Telukmaya" in texts and "café" in texts


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rag", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_kill_9_during_rebuild_leaves_the_old_index_answering(tmp_path: Path, articles_dir: Path) -> None:
    for i in range(60):
        (articles_dir / f"extra-{i}.txt").write_text(ARTICLE.format(place=f"Desa{i}x"))
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_EMBEDDING_MODEL": "hash:64",
           "RAG_CHUNK_TOKENS": "24", "RAG_CHUNK_OVERLAP_TOKENS": "0",
           "RAG_EMBED_BATCH_SIZE": "1"}
    first = _cli("index", "--source", str(articles_dir), "--json", env=env)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    before = json.loads(out)

    killed_while_writing = 0
    for step in range(6):
        proc = _cli("index", "--source", str(articles_dir), "--rebuild", "--json", env=env)
        # Kill once the new generation is being written, a little later each time.
        deadline = time.monotonic() + 60
        while not list((tmp_path / "index").glob("*.tmp")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05 * step)
        killed_while_writing += bool(list((tmp_path / "index").glob("*.tmp")))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        index = Searcher.open(tmp_path / "index")
        try:
            assert index.generation.count() == before["chunks"]
            assert index.search("Anies Tokyo", k=1)[0].source == "ANTARA"
        finally:
            index.close()

    assert killed_while_writing >= 3, "the kills should land while the new generation is written"
    second = _cli("index", "--source", str(articles_dir), "--json", env=env)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert json.loads(out)["embedded"] == 0


def test_stale_search_tables_are_rebuilt_without_embedding(settings: Settings, embedder) -> None:
    build_index(settings, embedder=embedder, progress=False)
    index = IndexDir(settings.index_dir)
    live = index.require_live()
    meta_path = index.folder(live) / "lexical" / "lexical.json"
    meta = json.loads(meta_path.read_text())
    meta["analyzer"]["stem"] = not meta["analyzer"]["stem"]  # as if built by an older analyzer
    meta_path.write_text(json.dumps(meta))
    (index.folder(live) / "vectors.npy").unlink()
    calls = embedder.calls
    summary = build_index(settings, embedder=embedder, progress=False)
    assert summary.embedded == 0 and embedder.calls == calls
    assert IndexDir(settings.index_dir).require_live() != live
    searcher = Searcher.open(settings.index_dir, embedder=embedder)
    try:
        assert searcher.search("Anies Tokyo", k=1)[0].source == "ANTARA"
    finally:
        searcher.close()


def test_an_empty_source_folder_gives_an_empty_index_that_answers(tmp_path: Path, embedder) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    settings = Settings(index_dir=tmp_path / "index", sources=(empty,), embedding_model="hash:128")
    summary = build_index(settings, embedder=embedder, progress=False)
    assert (summary.added, summary.chunks) == (0, 0)
    searcher = Searcher.open(settings.index_dir, embedder=embedder)
    try:
        assert searcher.search("apa saja", k=3) == []
    finally:
        searcher.close()
    assert build_index(settings, rebuild=True, progress=False).chunks == 0
