"""The index remembers its sources, and no everyday mistake removes a user's articles."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from rag.errors import IndexLocked, InputsSkipped, NeedsConfirmation, SourceError
from rag.indexer import build_index, index_sources
from rag.settings import Settings
from rag.store import IndexDir, open_index
from tests.conftest import REPO, SEED

ARTICLE = """Banjir rendam {place}
Senin, 2 Januari 2023 08:00 WIB

Banjir setinggi satu meter merendam ratusan rumah warga di {place} sejak Minggu malam.
Warga mengungsi ke masjid dan sekolah terdekat. Petugas membagikan makanan dan selimut.
Kepala desa {place} meminta bantuan perahu karet dari pemerintah kabupaten.
"""


def write_news(folder: Path, *places: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for place in places:
        (folder / f"banjir-{place.lower()}.txt").write_text(ARTICLE.format(place=place))
    return folder


def stored_paths(settings: Settings) -> list[str]:
    index = open_index(settings)
    return sorted(Path(r["path"]).name for r in index.read_articles(index.require_live()).values())


def live_generation(settings: Settings) -> object:
    return open_index(settings).live()


# -- the three mistakes, through the real command line -------------------------------------

@pytest.fixture
def rag(rag_main, project: Path):
    """`rag ARGS...` run in `project` with the hash embedder (in this process: see `rag_main`)."""
    env = {**os.environ, "RAG_INDEX_DIR": str(project / "index"), "RAG_EMBEDDING_MODEL": "hash:64",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    env.pop("RAG_SOURCES", None)
    return lambda *args: rag_main(*args, env=env, cwd=project)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder laid out like a checkout: seeds/ with the seed article, and mynews/ beside it."""
    (tmp_path / "seeds").mkdir()
    shutil.copy(SEED, tmp_path / "seeds" / SEED.name)
    write_news(tmp_path / "mynews", "Sukamaju", "Karangsari")
    return tmp_path


def test_mistyped_source_is_an_error_and_removes_nothing(project: Path, rag) -> None:
    assert rag("index", "--no-progress").returncode == 0
    before = (project / "index" / "CURRENT").read_text()

    plan = rag("index", "--source", "mynewz", "--dry-run")
    assert plan.returncode == 5
    assert "mynewz: error: not found (did you mean mynews?)" in plan.stderr

    done = rag("index", "--source", "mynewz", "--json")
    assert done.returncode == 5 and "source mynewz: not found" in done.stderr
    summary = json.loads(done.stdout)
    assert summary["articles"]["removed"] == 0 and summary["articles"]["unchanged"] == 1
    assert summary["recorded_sources"] == [str(project / "seeds")], "a source that is not there is not recorded"

    strict = rag("index", "--source", "mynewz", "--strict")
    assert strict.returncode == 4 and "nothing was changed" in strict.stderr
    assert (project / "index" / "CURRENT").read_text() == before, "--strict checks before it writes"
    listed = rag("sources")
    assert listed.stdout.split() == ["seeds", "1", "article"]


def test_second_folder_is_added_and_a_plain_run_keeps_both(project: Path, rag) -> None:
    assert rag("index", "--no-progress").returncode == 0
    added = rag("index", "--source", "mynews", "--json")
    assert added.returncode == 0, added.stderr
    summary = json.loads(added.stdout)
    assert summary["articles"] | {"skipped": 0} == {"added": 2, "updated": 0, "removed": 0, "unchanged": 1, "kept": 0,
                                                   "skipped": 0}
    assert summary["recorded_sources"] == [str(project / "seeds"), str(project / "mynews")]

    again = rag("index", "--json")  # what `make run` does
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["articles"]["unchanged"] == 3
    assert json.loads(again.stdout)["articles"]["removed"] == 0
    listed = json.loads(rag("sources", "--json").stdout)
    assert [(row["shown"], row["articles"]) for row in listed] == [("seeds", 1), ("mynews", 2)]


def test_forget_asks_then_drops_a_source(project: Path, rag) -> None:
    rag("index", "--no-progress")
    rag("index", "--source", "mynews", "--no-progress")
    refused = rag("index", "--forget", "mynews")  # 2 of 3 articles: more than half
    assert refused.returncode == 6
    assert "would remove 2 articles of the 3" in refused.stderr and "--yes" in refused.stderr
    assert "mynews: forgotten, 2 removed" in refused.stderr

    forgotten = rag("index", "--forget", "mynews", "--yes", "--json")
    assert forgotten.returncode == 0, forgotten.stderr
    assert json.loads(forgotten.stdout)["articles"]["removed"] == 2
    assert json.loads(forgotten.stdout)["recorded_sources"] == [str(project / "seeds")]
    assert (project / "mynews" / "banjir-sukamaju.txt").exists(), "forgetting never touches the files"

    unknown = rag("index", "--forget", "elsewhere")
    assert unknown.returncode == 5 and "not a source of this index" in unknown.stderr


# -- the same rules from Python, in both stores ----------------------------------------------

def test_missing_or_emptied_source_keeps_its_articles(store_settings: Settings, embedder, tmp_path: Path) -> None:
    news = write_news(tmp_path / "news", "Sukamaju", "Karangsari")
    build_index(store_settings, embedder=embedder, progress=False)
    build_index(store_settings, add_sources=[news], embedder=embedder, progress=False)
    assert len(stored_paths(store_settings)) == 3

    unmounted = tmp_path / "news-unmounted"
    news.rename(unmounted)  # the drive is not mounted: the folder is gone
    with pytest.raises(SourceError, match="news: not found") as failed:
        build_index(store_settings, embedder=embedder, progress=False)
    assert failed.value.summary.kept == 2 and failed.value.summary.removed == 0
    assert len(stored_paths(store_settings)) == 3

    news.mkdir()  # an empty mount point
    with pytest.raises(SourceError, match="is empty, but 2 articles were indexed from it"):
        build_index(store_settings, embedder=embedder, progress=False)
    assert len(stored_paths(store_settings)) == 3

    news.rmdir()
    unmounted.rename(news)
    (news / "banjir-karangsari.txt").unlink()  # a real deletion, in a source that was read
    summary = build_index(store_settings, embedder=embedder, progress=False)
    assert (summary.removed, summary.unchanged) == (1, 2)


def test_removing_more_than_half_needs_confirmation(store_settings: Settings, embedder, articles_dir: Path) -> None:
    write_news(articles_dir, "Sukamaju", "Karangsari", "Tegalrejo")
    build_index(store_settings, embedder=embedder, progress=False)
    live = live_generation(store_settings)
    for name in ("banjir-sukamaju.txt", "banjir-karangsari.txt", "banjir-tegalrejo.txt"):
        (articles_dir / name).unlink()

    plan = build_index(store_settings, embedder=embedder, progress=False, dry_run=True)
    assert plan.dry_run and plan.removed == 3 and live_generation(store_settings) == live
    with pytest.raises(NeedsConfirmation, match="remove 3 articles of the 4") as asked:
        build_index(store_settings, embedder=embedder, progress=False)
    assert live_generation(store_settings) == live and len(stored_paths(store_settings)) == 4
    questions: list[int] = []
    with pytest.raises(NeedsConfirmation):
        build_index(store_settings, embedder=embedder, progress=False,
                    ask=lambda p: questions.append(len(p.removed)) is not None)  # the user answers no
    assert questions == [3] and asked.value.plan is not None

    done = build_index(store_settings, embedder=embedder, progress=False, yes=True)
    assert done.removed == 3 and stored_paths(store_settings) == [SEED.name]


def test_strict_changes_nothing_when_a_file_is_skipped(settings: Settings, embedder, articles_dir: Path) -> None:
    build_index(settings, embedder=embedder, progress=False)
    live = live_generation(settings)
    write_news(articles_dir, "Sukamaju")
    (articles_dir / "kosong.txt").write_text("")
    with pytest.raises(InputsSkipped):
        build_index(settings, embedder=embedder, progress=False, strict=True)
    assert live_generation(settings) == live
    assert build_index(settings, embedder=embedder, progress=False).added == 1


def test_file_that_cannot_be_read_now_keeps_its_article(settings: Settings, embedder, articles_dir: Path) -> None:
    news = write_news(articles_dir, "Sukamaju")
    build_index(settings, embedder=embedder, progress=False)
    (news / "banjir-sukamaju.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))  # overwritten by mistake
    summary = build_index(settings, embedder=embedder, progress=False)
    assert (summary.removed, summary.kept) == (0, 1)
    assert any("banjir-sukamaju.txt" in s.path for s in summary.skipped_files)


def test_rebuild_refuses_to_drop_articles_it_cannot_read(settings: Settings, embedder, tmp_path: Path) -> None:
    news = write_news(tmp_path / "news", "Sukamaju")
    build_index(settings, add_sources=[settings.sources[0], news], embedder=embedder, progress=False)
    shutil.rmtree(news)
    with pytest.raises(SourceError, match="cannot rebuild"):
        build_index(settings, embedder=embedder, progress=False, rebuild=True)
    assert len(stored_paths(settings)) == 2


def test_sources_lists_counts_and_legacy_articles(settings: Settings, embedder, tmp_path: Path) -> None:
    news = write_news(tmp_path / "news", "Sukamaju", "Karangsari")
    build_index(settings, embedder=embedder, progress=False)
    build_index(settings, add_sources=[news], embedder=embedder, progress=False)
    rows = index_sources(settings)
    assert [(Path(r["path"]).name, r["articles"], r["recorded"], r["exists"]) for r in rows] == [
        ("articles", 1, True, True), ("news", 2, True, True)]


def test_a_nested_source_is_read_once(settings: Settings, embedder, articles_dir: Path) -> None:
    inner = write_news(articles_dir / "uploads", "Sukamaju")
    summary = build_index(settings, embedder=embedder, progress=False)
    assert summary.added == 2
    again = build_index(settings, add_sources=[inner], embedder=embedder, progress=False)
    assert (again.added, again.unchanged, again.skipped_files) == (0, 2, [])
    assert again.recorded_sources == [str(articles_dir)], "covered by the folder around it"


# -- the lock comes first, and old generations never pile up ----------------------------------

def test_a_second_writer_is_refused_before_reading_anything(settings: Settings, embedder, tmp_path: Path) -> None:
    build_index(settings, embedder=embedder, progress=False)
    with IndexDir(settings.index_dir).writer_lock():
        with pytest.raises(IndexLocked, match=rf"pid {os.getpid()}"):
            build_index(settings, add_sources=[tmp_path / "not-there"], embedder=embedder, progress=False)


def test_every_run_removes_superseded_generations(settings: Settings, embedder) -> None:
    build_index(settings, embedder=embedder, progress=False, rebuild=True)
    build_index(settings, embedder=embedder, progress=False, rebuild=True)
    folder = settings.index_dir
    live = IndexDir(folder).live()
    assert live is not None
    # what two kills right after the switch leave behind: superseded generations, and a half-written one
    for name in ("gen-20200101T000000-aaaaaa", "gen-20200101T000001-bbbbbb", "gen-20200101T000002-cccccc.tmp"):
        shutil.copytree(folder / live, folder / name)
    size = sum(f.stat().st_size for f in (folder / "gen-20200101T000000-aaaaaa").rglob("*") if f.is_file())
    summary = build_index(settings, embedder=embedder, progress=False)  # a no-op run
    assert summary.embedded == 0 and summary.freed_generations == 3
    assert summary.freed_bytes >= 3 * size
    left = sorted(p.name for p in folder.glob("gen-*"))
    assert len(left) == 2 and live in left, "the live generation and the one kept for readers"
