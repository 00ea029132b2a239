"""Adding articles from the chat UI: checks, safe saving, background indexing, and when it is off."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.settings import Settings
from rag.store import IndexDir
from rag.uploads import safe_name, save_uploads, uploads_allowed
from tests.ui_support import running_app

pytestmark = pytest.mark.e2e
gradio_client = pytest.importorskip("gradio_client")

UPLOADED = """Jembatan Kaca Seruni Point dibuka untuk wisatawan
Sabtu, 3 September 2022 09:00 WIB

Probolinggo (ANTARA) - Jembatan kaca di kawasan Seruni Point, Kabupaten Probolinggo, dibuka untuk wisatawan pada Sabtu.
Jembatan sepanjang 120 meter itu menghadap Gunung Bromo dan dibangun oleh Kementerian PUPR.
Bupati Probolinggo Timbul Prihanjoko mengatakan tiket masuk jembatan kaca Rp 10.000 per orang.
"""


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_uploads_are_checked_and_saved_under_safe_names(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    good = _write(incoming, "jembatan kaca (1).txt", UPLOADED)
    other = _write(incoming / "b", "jembatan kaca (1).txt", UPLOADED.replace("120 meter", "150 meter"))
    pdf = _write(incoming, "laporan.pdf", b"%PDF-1.4 ...")
    empty = _write(incoming, "kosong.md", "")
    folder = tmp_path / "uploads"
    saved, skipped = save_uploads([good, other, pdf, empty, good], folder, max_file_mb=1)
    assert [p.name for p in saved] == ["jembatan-kaca-1.txt", "jembatan-kaca-1-2.txt"]
    assert all(p.parent == folder for p in saved)
    assert {s.path: s.reason for s in skipped} == {
        "laporan.pdf": "unsupported file type '.pdf'",
        "kosong.md": "empty file",
        "jembatan kaca (1).txt": "already uploaded as jembatan-kaca-1.txt",
    }
    big = _write(incoming, "besar.txt", UPLOADED + "kata " * 300_000)
    assert save_uploads([big], folder, max_file_mb=1)[1][0].reason.startswith("too large")
    assert safe_name("../../etc/passwd.txt") == "passwd.txt" and safe_name("..\\x\\.env.md") == "env.md"


def test_uploads_only_where_strangers_cannot_reach_the_ui() -> None:
    assert uploads_allowed(Settings())
    assert not uploads_allowed(Settings(server_name="0.0.0.0", allow_public=True))
    assert uploads_allowed(Settings(server_name="0.0.0.0", auth="redaksi:rahasia"))
    assert not uploads_allowed(Settings(uploads=False))
    assert not Settings.from_env({"RAG_UPLOADS": "0"}).uploads
    assert Settings.from_env({"RAG_UPLOAD_DIR": "/srv/news/in"}).upload_dir == Path("/srv/news/in")


@pytest.fixture
def app(tmp_path: Path, settings: Settings, embedder):
    from rag.indexer import build_index

    settings = settings.replace(upload_dir=settings.sources[0] / "uploads")
    build_index(settings, embedder=embedder, progress=False)
    with running_app(settings, min_interval_s=0) as url:
        yield settings, gradio_client.Client(url, verbose=False)


def test_added_articles_are_indexed_and_answered_without_a_restart(app, tmp_path: Path) -> None:
    settings, client = app
    before = client.predict("en", api_name="/status")
    assert before.startswith("1 article")
    good = _write(tmp_path / "in", "seruni.txt", UPLOADED)
    bad = _write(tmp_path / "in", "kosong.txt", "")
    job = client.submit([gradio_client.handle_file(str(good)), gradio_client.handle_file(str(bad))], "en",
                        api_name="/add_articles")
    updates = list(job)
    final = updates[-1]
    assert "Done: 1 article added, 0 articles updated. The index now holds 2 articles." in final
    assert "`kosong.txt`: empty file" in final
    assert [p.name for p in (settings.upload_dir).iterdir()] == ["seruni.txt"], "only the good file is kept"
    assert client.predict("en", api_name="/status").startswith("2 articles")
    data = client.predict("Berapa harga tiket jembatan kaca Seruni Point?", "", "", "", api_name="/ask")
    assert data["citations"][0]["title"] == "Jembatan Kaca Seruni Point dibuka untuk wisatawan"

    again = client.predict([gradio_client.handle_file(str(good))], "id", api_name="/add_articles")
    assert "`seruni.txt`: sudah diunggah sebagai seruni.txt" in again, "the reason in the chosen language"


def test_upload_while_the_index_is_being_written_says_busy(app, tmp_path: Path) -> None:
    settings, client = app
    good = _write(tmp_path / "in", "seruni.txt", UPLOADED)
    with IndexDir(settings.index_dir).writer_lock():  # a `rag index` in a terminal
        reply = client.predict([gradio_client.handle_file(str(good))], "id", api_name="/add_articles")
    assert "Indeks sedang diperbarui" in reply
    assert not list(settings.upload_dir.glob("*.txt")), "a file that was not indexed is not kept"
    assert client.predict("en", api_name="/status").startswith("1 article")


def test_upload_turned_off(tmp_path: Path, settings: Settings, embedder) -> None:
    from rag.indexer import build_index

    settings = settings.replace(upload_dir=tmp_path / "uploads", uploads=False)
    build_index(settings, embedder=embedder, progress=False)
    good = _write(tmp_path / "in", "seruni.txt", UPLOADED)
    with running_app(settings) as url:
        reply = gradio_client.Client(url, verbose=False).predict([gradio_client.handle_file(str(good))], "en",
                                                                 api_name="/add_articles")
    assert reply == "Adding articles is turned off on this server."
    assert not (tmp_path / "uploads").exists()
