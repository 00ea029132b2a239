"""The persisted index: immutable generations of a Chroma store, and the pointer to the live one.

Layout of an index directory:

    index/
      CURRENT              name of the live generation (replaced atomically)
      PREVIOUS             the generation live before it, kept for readers still on it
      .lock                held by the one writer (`rag index`)
      gen-<time>-<id>/     a generation: Chroma's files, manifest.json, articles.json
      gen-...-<id>.tmp/    a generation being written (removed if its writer died)

A generation is never modified after it is published. A writer copies the live one (or
starts empty for `--rebuild`), applies its changes, and then flips `CURRENT`; a crash at
any moment leaves the old generation live and whole. `articles.json` (article id ->
content hash, chunk count, ...) is part of the generation, so the bookkeeping of what is
indexed is published in the same step as the vectors and cannot drift from them.

`open_index(settings)` chooses between this folder and a Chroma server (server_store.py,
when RAG_CHROMA_URL is set), which keeps the same generations as collections.

Left out here: how articles become chunks and vectors (indexer.py), and ranking (search.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .errors import IndexLocked, IndexMismatch, IndexNotFound

if TYPE_CHECKING:
    from .settings import Settings

SCHEMA_VERSION = 2
COLLECTION = "chunks"
CURRENT = "CURRENT"
PREVIOUS = "PREVIOUS"
MANIFEST = "manifest.json"
ARTICLES = "articles.json"


@dataclass(frozen=True)
class Manifest:
    """How a generation was built; queries must be embedded the same way."""

    embedder: dict[str, Any]
    """id, dimension, max_tokens, requested (the configured model), fallback_reason."""
    chunking: dict[str, Any]
    """chunk_tokens, overlap_tokens, chunker_version."""
    articles: int
    chunks: int
    built_at: str
    sources: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls.from_json(json.loads((path / MANIFEST).read_text()), f"{path.parent}")

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> Manifest:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise IndexMismatch(
                f"index in {where} has schema version {data.get('schema_version')}, this rag writes "
                f"{SCHEMA_VERSION}: run `rag index --rebuild`"
            )
        return cls(**data)


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


class Generation:
    """One generation of the index: a Chroma collection, opened through Chroma's embedded
    client (a folder) or, via `of_collection`, a collection on a Chroma server."""

    def __init__(self, path: Path) -> None:
        import chromadb

        self.path: Path | None = path
        # Chroma's type hints are narrower than what it accepts and returns (numpy arrays,
        # optional result fields that `include` makes present): its handles are Any here.
        self._client: Any = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        self._owns_client = True
        self.collection: Any = self._client.get_or_create_collection(
            COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )

    @classmethod
    def of_collection(cls, client: Any, collection: Any) -> Generation:
        """A generation held by a client that someone else owns (and closes)."""
        generation = cls.__new__(cls)
        generation.path = None
        generation._client = client
        generation._owns_client = False
        generation.collection = collection
        return generation

    @property
    def max_batch_size(self) -> int:
        return int(self._client.get_max_batch_size())

    def add(self, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str], metadatas: Sequence[dict]) -> None:
        step = self.max_batch_size
        for i in range(0, len(ids), step):
            self.collection.add(ids=list(ids[i:i + step]), embeddings=vectors[i:i + step],
                                documents=list(documents[i:i + step]), metadatas=list(metadatas[i:i + step]))

    def delete_articles(self, article_ids: Iterable[str]) -> None:
        ids = list(article_ids)
        for i in range(0, len(ids), 500):
            self.collection.delete(where={"article_id": {"$in": ids[i:i + 500]}})

    def nearest(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the `n` nearest chunks, best first. Only ids and
        distances are fetched: documents and metadata cost more than the search itself."""
        res = self.collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=n,
                                    where=where, include=["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(res["ids"][0], res["distances"][0])]

    def count(self) -> int:
        return int(self.collection.count())

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


class Index(Protocol):
    """What the indexer and the searcher need of an index: `IndexDir` (a folder) or
    `server_store.ServerIndex` (a Chroma server). A generation handle is a folder path
    for the one and a collection name for the other, so it is typed `Any` here."""

    tables_in_generation: bool

    @property
    def location(self) -> str: ...
    def writer_lock(self) -> AbstractContextManager[None]: ...
    def live(self) -> Any: ...
    def require_live(self) -> Any: ...
    def read_manifest(self, generation: Any) -> Manifest: ...
    def read_articles(self, generation: Any) -> dict[str, dict[str, Any]]: ...
    def write_metadata(self, generation: Any, manifest: Manifest, articles: dict[str, dict[str, Any]]) -> None: ...
    def open_generation(self, generation: Any) -> Generation: ...
    def tables_dir(self, generation: Any) -> Path: ...
    def discard(self, generation: Any) -> None: ...
    def new_generation(self, copy_of: Any) -> Any: ...
    def publish(self, tmp: Any) -> Any: ...
    def collect_garbage(self) -> tuple[int, int]: ...


class IndexDir:
    """The index directory: which generation is live, and making new ones.

    The indexer and the searcher talk to it (and to `server_store.ServerIndex`, the same
    interface over a Chroma server) through the methods below `require_live`; a generation
    is named by its folder's path here, by its collection's name there."""

    tables_in_generation = True
    """The search tables are written into each generation (a server index caches them per reader)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def lock_path(self) -> Path:
        return self.path / ".lock"

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold the index's writer lock, or fail at once if another writer holds it.

        flock is released by the kernel when the process dies, so a killed writer never
        leaves a stale lock behind."""
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexLocked(f"another `rag index` (pid {_lock_holder(fd)}) is writing {self.path}/; "
                                  "wait for it to finish") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)

    def live(self) -> Path | None:
        try:
            name = (self.path / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        live = self.path / name
        return live if (live / MANIFEST).is_file() else None

    def require_live(self) -> Path:
        live = self.live()
        if live is None:
            raise IndexNotFound(f"no index in {self.path}/: build it with `rag index` (articles from seeds/)")
        return live

    def read_manifest(self, generation: Path) -> Manifest:
        return Manifest.read(generation)

    def read_articles(self, generation: Path) -> dict[str, dict[str, Any]]:
        return read_articles(generation)

    def write_metadata(self, generation: Path, manifest: Manifest, articles: dict[str, dict[str, Any]]) -> None:
        write_metadata(generation, manifest, articles)

    def open_generation(self, generation: Path) -> Generation:
        return Generation(generation)

    def tables_dir(self, generation: Path) -> Path:
        """Where the search tables of `generation` are (see search.py)."""
        return generation

    def discard(self, generation: Path) -> None:
        """Remove an unpublished generation."""
        shutil.rmtree(generation, ignore_errors=True)

    def new_generation(self, copy_of: Path | None) -> Path:
        """A fresh `.tmp` generation folder, a copy of `copy_of` when given."""
        self.path.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}.tmp"
        tmp = self.path / name
        if copy_of is not None:
            shutil.copytree(copy_of, tmp)
        else:
            tmp.mkdir()
        return tmp

    def publish(self, tmp: Path) -> Path:
        """Make `tmp` the live generation in one atomic step; returns its final path."""
        final = tmp.with_name(tmp.name.removesuffix(".tmp"))
        _fsync_tree(tmp)
        os.rename(tmp, final)
        previous = self.live()
        if previous is not None:
            _write_atomically(self.path / PREVIOUS, previous.name)
        _write_atomically(self.path / CURRENT, final.name)
        return final

    def collect_garbage(self) -> tuple[int, int]:
        """Remove every generation that is neither live nor the previous one (unfinished
        ones whose writer died, superseded ones left by a kill after a switch); the
        writer holds the lock. Returns (generations removed, bytes freed).

        The previous live generation is kept, so a reader that opened it just before
        the switch can finish its query."""
        if not self.path.is_dir():
            return 0, 0
        keep = {self.live()}
        try:
            keep.add(self.path / (self.path / PREVIOUS).read_text().strip())
        except FileNotFoundError:
            pass
        removed = freed = 0
        for child in self.path.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child not in keep:
                freed += _tree_size(child)
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
        for pattern in (".*.tmp-pointer", f".{CURRENT}.*"):
            for child in self.path.glob(pattern):
                child.unlink(missing_ok=True)
        return removed, freed


def open_index(settings: Settings) -> Index:
    """The configured index: a Chroma server when `settings.chroma_url` is set, else the folder."""
    if settings.chroma_url:
        from .server_store import ServerIndex

        return ServerIndex(settings.chroma_url, collection=settings.collection, token=settings.chroma_token,
                           headers=dict(settings.chroma_headers), cache_dir=settings.index_dir)
    return IndexDir(settings.index_dir)


def write_metadata(path: Path, manifest: Manifest, articles: dict[str, dict[str, Any]]) -> None:
    (path / ARTICLES).write_text(json.dumps(articles, ensure_ascii=False, sort_keys=True))
    (path / MANIFEST).write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2))


def read_articles(path: Path) -> dict[str, dict[str, Any]]:
    return json.loads((path / ARTICLES).read_text())


def _write_atomically(path: Path, line: str) -> None:
    """Replace the one-line file `path` in one step, durably."""
    pointer = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp-pointer")
    with open(pointer, "w") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer, path)
    _fsync_dir(path.parent)


def _lock_holder(fd: int) -> str:
    """The pid the lock holder wrote; it writes it just after taking the lock, so wait a moment."""
    for _ in range(20):
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if holder:
            return holder
        time.sleep(0.05)
    return "unknown"


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def _fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
