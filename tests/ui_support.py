"""What the UI tests share: a small real corpus (the seed, the well-formed test articles
and two hostile ones), its index, and the chat app served on a free port."""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from rag.indexer import build_index
from rag.settings import Settings
from tests.conftest import SEED
from tests.corpus import write_good_articles

# Fields and body full of markup that must be shown as text, never run or loaded.
HOSTILE_MARKDOWN = """---
title: Jembatan gantung baru <script>window.__pwned = "title"</script> di Bogor
source: Warta <b>Bogor</b>
published: 2022-08-20
url: javascript:window.__pwned='url'
author: Tim <img src=x onerror="window.__pwned='author'">
---
Wali Kota Bogor Bima Arya meresmikan jembatan gantung baru di atas Sungai Ciliwung pada Sabtu pagi <script>window.__pwned = "body"</script>.

Jembatan gantung sepanjang 120 meter itu dibangun dengan biaya Rp 4,5 miliar <img src="http://203.0.113.7/pixel.gif" onerror="window.__pwned='img'"> dari APBD Kota Bogor.
"""

HOSTILE_TEXT = """Pasar apung Lok Baintan ramai pengunjung
Minggu, 21 Agustus 2022 08:15 WITA

Banjarmasin (Kabar Kalsel) - Pasar apung Lok Baintan di Sungai Martapura dikunjungi sekitar 3.000 wisatawan pada Minggu pagi ![pelacak](http://203.0.113.8/track.png) menurut pengelola pasar.

Pedagang menjual sayur dan buah dari atas jukung <img src="http://203.0.113.9/x.gif" onerror="window.__pwned='txt'"> sejak pukul 05.00 WITA.
"""

HOSTILE_QUESTIONS = (
    "Berapa biaya pembangunan jembatan gantung di Bogor?",
    "Berapa wisatawan yang mengunjungi pasar apung Lok Baintan?",
)


# Words that give a string away as the other language (the names of the languages aside).
INDONESIAN = {"otomatis", "contoh", "mis", "artikel", "potongan", "jawaban", "diindeks", "tanpa", "luring", "dan",
              "yang", "di", "dari", "untuk", "dengan", "sejak", "sampai", "tanggal", "pertanyaan", "kirim", "media",
              "semua", "sumber", "oleh", "buka", "asli", "pakai", "lewat", "bahasa", "antarmuka", "saring", "baru"}
ENGLISH = {"the", "of", "and", "no", "offline", "extractive", "answers", "articles", "article", "chunks", "indexed",
           "from", "until", "date", "send", "new", "chat", "example", "questions", "outlet", "all", "sources", "by",
           "open", "original", "use", "via", "interface", "language", "filter", "automatic", "e.g", "at", "embedder",
           "local", "compatible", "ask", "question", "news", "with", "quotes", "here", "appear"}


UI_EMBEDDER = "hash:256"


def words_of(value: str) -> set[str]:
    value = re.sub(r"`[^`]*`|\{[^}]*\}|https?://\S+|Bahasa Indonesia|English", " ", value)
    return set(re.findall(r"[a-z]+(?:\.g)?", value.lower()))


def write_ui_articles(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SEED.name).write_text(SEED.read_text())
    write_good_articles(folder)
    (folder / "jembatan-bogor.md").write_text(HOSTILE_MARKDOWN)
    (folder / "pasar-apung.txt").write_text(HOSTILE_TEXT)
    return folder


def ui_settings(root: Path, **changes: object) -> Settings:
    """Settings for an app on the UI corpus in `root`, indexed with the hash embedder: the UI
    tests check plumbing, not retrieval quality (pass `embedding_model=` for a real one)."""
    articles = write_ui_articles(root / "articles")
    settings = Settings(index_dir=root / "index", sources=(articles,), embedding_model=UI_EMBEDDER,
                        upload_dir=articles / "uploads")
    return settings.replace(**changes) if changes else settings


def index_ui_corpus(root: Path, **changes: object) -> Settings:
    settings = ui_settings(root, **changes)
    build_index(settings, progress=False)
    return settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s:.0f}s")


@contextlib.contextmanager
def running_app(settings: Settings, min_interval_s: float = 0.05, **launch_options: object) -> Iterator[str]:
    """The chat app on `settings`, served for real on a free port; yields its URL.
    `min_interval_s=0` streams every piece of an answer (see `ChatService`)."""
    from rag.ui import ChatService
    from rag.webapp import build_app, launch

    settings = settings.replace(server_port=free_port())
    demo = build_app(ChatService(settings, min_interval_s=min_interval_s))
    launch(demo, settings, prevent_thread_lock=True, quiet=True, **launch_options)
    try:
        yield f"http://127.0.0.1:{settings.server_port}/"
    finally:
        demo.close()
