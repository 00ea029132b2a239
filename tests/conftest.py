"""Shared fixtures. Tests never touch the real index/ or the network."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.embeddings.hashing import HashingEmbedder
from rag.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "antara-2022-08-13-anies-kunjungi-jepang.txt"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    for var in ("RAG_EMBEDDING_MODEL", "RAG_EMBEDDING_FALLBACK", "RAG_SOURCES", "RAG_CHUNK_TOKENS"):
        monkeypatch.delenv(var, raising=False)


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
