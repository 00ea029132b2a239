"""The store contract in both modes (embedded Chroma and a real `chroma run`), and what only
server mode has: readers that follow the live collection, the writer's lease, and several
processes sharing one server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.errors import ConfigError, IndexLocked, RagError
from rag.indexer import build_index
from rag.search import Searcher
from rag.store import IndexDir, ServerIndex
from rag.settings import Settings
from rag.store import open_index
from tests.conftest import REPO, _free_port, in_mode

ARTICLE = """Banjir rendam {place}
Senin, 2 Januari 2023 08:00 WIB

Banjir setinggi satu meter merendam ratusan rumah warga di {place} sejak Minggu malam.
Warga mengungsi ke masjid dan sekolah terdekat. Petugas membagikan makanan dan selimut.
Kepala desa {place} meminta bantuan perahu karet dari pemerintah kabupaten.
"""


def chunk_texts(settings: Settings) -> list[str]:
    index = open_index(settings)
    generation = index.open_generation(index.require_live())
    try:
        return generation.collection.get(include=["documents"])["documents"]
    finally:
        generation.close()


def search_ids(settings: Settings, query: str, embedder) -> list[str]:
    searcher = Searcher.open(open_index(settings), embedder=embedder)
    try:
        return [hit.article_id for hit in searcher.search(query, k=5)]
    finally:
        searcher.close()


# -- the same contract in both modes ---------------------------------------------------


def test_round_trip_and_a_second_run_embeds_nothing(store_settings: Settings, embedder) -> None:
    first = build_index(store_settings, embedder=embedder, progress=False)
    assert first.added == 1 and first.embedded == first.chunks > 1
    calls = embedder.calls
    second = build_index(store_settings, embedder=embedder, progress=False)
    assert (second.added, second.unchanged, second.embedded) == (0, 1, 0)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 1)
    assert second.embedded == 0 and embedder.calls == calls
    assert second.chunks == first.chunks

    searcher = Searcher.open(open_index(store_settings))  # the embedder comes from the manifest
    try:
        (hit,) = searcher.search("Anies Gubernur Tokyo Koike", k=3)
        assert searcher.manifest.chunks == first.chunks
    finally:
        searcher.close()
    assert hit.source == "ANTARA" and hit.published and hit.published.startswith("2022-08-13")
    assert "Koike" in hit.text


def test_edit_delete_add_leaves_exactly_the_expected_chunks(store_settings: Settings, embedder, articles_dir: Path) -> None:
    (articles_dir / "a.txt").write_text(ARTICLE.format(place="Sukamaju"))
    (articles_dir / "b.txt").write_text(ARTICLE.format(place="Karangsari"))
    build_index(store_settings, embedder=embedder, progress=False)
    (articles_dir / "a.txt").write_text(ARTICLE.format(place="Sukamundur"))
    (articles_dir / "b.txt").unlink()
    (articles_dir / "c.txt").write_text(ARTICLE.format(place="Tegalrejo"))
    summary = build_index(store_settings, embedder=embedder, progress=False)
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (1, 1, 1, 1)

    texts = "\n".join(chunk_texts(store_settings))
    assert "Sukamundur" in texts and "Tegalrejo" in texts and "Anies" in texts
    assert "Sukamaju" not in texts and "Karangsari" not in texts
    index = open_index(store_settings)
    records = index.read_articles(index.require_live())
    assert sum(r["chunks"] for r in records.values()) == summary.chunks == len(chunk_texts(store_settings))
    if isinstance(index, IndexDir):  # the folder index keeps them in the generation's articles.json
        assert json.loads((index.folder(index.require_live()) / "articles.json").read_text()) == records


def test_failed_write_leaves_the_old_index_and_is_cleaned_up(store_settings: Settings, embedder, articles_dir: Path) -> None:
    build_index(store_settings, embedder=embedder, progress=False)
    live = open_index(store_settings).live()
    (articles_dir / "a.txt").write_text(ARTICLE.format(place="Sukamaju"))
    unpublished = []

    def crash(generation: object) -> None:
        unpublished.append(generation)
        raise OSError("disk full")

    with pytest.raises(OSError):
        build_index(store_settings, embedder=embedder, progress=False, on_generation=crash)
    assert open_index(store_settings).live() == live
    assert "Sukamaju" not in "\n".join(chunk_texts(store_settings))
    assert build_index(store_settings, embedder=embedder, progress=False).added == 1  # the failed run was not recorded
    assert not list(store_settings.index_dir.glob("*.tmp"))
    index = open_index(store_settings)
    if isinstance(index, ServerIndex):
        assert unpublished[0] not in index._generations()
    else:
        assert not (store_settings.index_dir / unpublished[0]).exists()


def test_rebuild_switches_in_one_step_and_keeps_the_previous_generation(store_settings: Settings, embedder) -> None:
    build_index(store_settings, embedder=embedder, progress=False)
    index = open_index(store_settings)
    first = index.live()
    reader = Searcher.open(index, embedder=embedder)  # opened before the switch
    try:
        build_index(store_settings, embedder=embedder, progress=False, rebuild=True)
        second = index.live()
        assert second != first
        # a folder's reader is replaced by its owner; a server's follows by itself
        assert reader.stale() is not isinstance(index, ServerIndex)
        reader.FOLLOW_S = 3600  # stay on the old generation: it must still answer
        assert [h.article_id for h in reader.search("Anies Tokyo", k=1)] == [h.article_id for h in
                                                                             reader.search("Koike", k=1)]
        build_index(store_settings, embedder=embedder, progress=False, rebuild=True)
        third = index.live()
    finally:
        reader.close()
    kept = index._generations() if isinstance(index, ServerIndex) else \
        [p.name for p in store_settings.index_dir.glob("gen-*")]
    assert sorted(kept) == sorted(str(g).rsplit("/", 1)[-1] for g in (second, third))


def test_a_second_writer_is_refused(store_settings: Settings) -> None:
    with open_index(store_settings).writer_lock():
        with pytest.raises(IndexLocked, match="another `rag index`"):
            with open_index(store_settings).writer_lock():
                pass
    with open_index(store_settings).writer_lock():  # released again
        pass


# -- server mode only --------------------------------------------------------------------


@pytest.fixture
def server_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    return in_mode(settings, "server", request)


def test_reader_follows_the_live_collection(server_settings: Settings, embedder, articles_dir: Path) -> None:
    build_index(server_settings, embedder=embedder, progress=False)
    reader = Searcher.open(open_index(server_settings), embedder=embedder)
    try:
        reader.FOLLOW_S = 0.0
        assert not any("sukamaju" in h.article_id for h in reader.search("banjir Sukamaju", k=5))
        (articles_dir / "a.txt").write_text(ARTICLE.format(place="Sukamaju"))
        build_index(server_settings, embedder=embedder, progress=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the new generation's tables are built in the background
            hits = reader.search("banjir Sukamaju", k=5)
            if "Sukamaju" in hits[0].title:
                break
            time.sleep(0.1)
    finally:
        reader.close()
    assert "Sukamaju" in hits[0].title
    cached = sorted(p.name for p in open_index(server_settings).cache_root.iterdir() if p.name.startswith("gen-"))
    assert len(cached) == 2  # the live generation and the previous one


def test_an_expired_lease_is_taken_over(server_settings: Settings, embedder) -> None:
    index = open_index(server_settings)
    index._meta.upsert(ids=["lock"], embeddings=[[1.0]], documents=[""],
                       metadatas=[{"holder": "dead-host:1:x", "expires_at": time.time() - 1}])
    assert build_index(server_settings, embedder=embedder, progress=False).added == 1


def test_unreachable_server_is_one_clear_line(settings: Settings, capsys: pytest.CaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(RagError, match=url.replace(".", r"\.")):
        open_index(settings.replace(chroma_url=url))
    from rag.cli import main

    monkeypatch.setenv("RAG_CHROMA_URL", url)
    assert main(["search", "banjir"]) == 1
    err = capsys.readouterr().err
    assert url in err and "Traceback" not in err


@pytest.mark.parametrize("env, message", [
    ({"RAG_CHROMA_URL": "localhost:8000"}, "RAG_CHROMA_URL"),
    ({"RAG_CHROMA_HEADERS": "X-Token: abc"}, "JSON object"),
    ({"RAG_COLLECTION": "a--b"}, "RAG_COLLECTION"),
])
def test_bad_server_settings_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_headers_and_token_are_read() -> None:
    settings = Settings.from_env({"RAG_CHROMA_URL": "https://chroma.example:8443", "RAG_CHROMA_TOKEN": "t",
                                  "RAG_CHROMA_HEADERS": '{"X-Tenant": "news"}', "RAG_COLLECTION": "arsip_2024"})
    assert settings.chroma_headers == (("X-Tenant", "news"),) and settings.collection == "arsip_2024"


READER = """
import json, os, sys, time
from rag.embeddings.hashing import HashingEmbedder
from rag.search import Searcher
from rag.settings import Settings
from rag.store import open_index

settings = Settings(index_dir=sys.argv[1], chroma_url=sys.argv[2], collection=sys.argv[3])
searcher = Searcher.open(open_index(settings), embedder=HashingEmbedder(128))
searcher.FOLLOW_S = 0.2
print("ready", flush=True)
seen, errors, deadline = [], [], time.monotonic() + 120
# until told which article the last generation holds, and seeing it (tables build in the background)
while time.monotonic() < deadline and not (os.path.exists(sys.argv[4]) and seen
                                           and open(sys.argv[4]).read() in seen[-1]):
    try:
        hits = searcher.search("banjir warga mengungsi", k=10)
        seen.append(sorted(h.article_id for h in hits))
    except Exception as err:
        errors.append(repr(err))
    time.sleep(0.05)  # leave the indexer some of the machine's two cores
print(json.dumps({"seen": seen, "errors": errors}))
"""


@pytest.mark.slow
def test_two_readers_and_one_indexer_share_one_server(server_settings: Settings, embedder, articles_dir: Path,
                                                      tmp_path: Path) -> None:
    """While one indexer switches generations, two reader processes see no error and each
    result is exactly one published generation's, never a mix."""
    (articles_dir / "a.txt").write_text(ARTICLE.format(place="Sukamaju"))
    build_index(server_settings, embedder=embedder, progress=False)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(tmp_path / f"cache{n}"), server_settings.chroma_url,
                                 server_settings.collection, str(tmp_path / "stop")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env) for n in range(2)]
    for reader in readers:
        assert reader.stdout.readline().strip() == "ready", reader.communicate()[1]
    for round_ in range(3):  # a flood article from another village each time
        (articles_dir / f"desa{round_ - 1}.txt").unlink(missing_ok=True)
        (articles_dir / f"desa{round_}.txt").write_text(ARTICLE.format(place=f"Desa{round_}"))
        build_index(server_settings, embedder=embedder, progress=False)
        time.sleep(0.5)
    (tmp_path / "stop").write_text("desa2")
    results = [json.loads(r.communicate(timeout=60)[0]) for r in readers]
    assert all(r.returncode == 0 for r in readers)
    for result in results:
        assert result["errors"] == []
        unchanged = {tuple(a for a in ids if not a.startswith("desa")) for ids in result["seen"]}
        assert len(unchanged) == 1  # the articles no run touched are always found
        villages = [[int(a[4:]) for a in ids if a.startswith("desa")] for ids in result["seen"]]
        assert all(len(v) <= 1 for v in villages)  # one generation's village, never two
        assert [v[0] for v in villages if v] == sorted(v[0] for v in villages if v)  # never back to an older one
        assert villages[-1] == [2]
