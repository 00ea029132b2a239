"""The index in a folder: immutable generations of a Chroma store, and the pointer to the live one.

Layout of an index directory:

    index/
      CURRENT              name of the live generation (replaced atomically)
      PREVIOUS             the generation live before it, kept for readers still on it
      .lock                held by the one writer (`rag index`)
      stems.json           the stems cache of the search tables (tables.py)
      gen-<time>-<id>/     a generation: Chroma's files, manifest.json, articles.json and
                           its search tables (chunks.json, vectors.npy, lexical/, search.json)
      gen-...-<id>.tmp/    a generation being written (removed if its writer died)

A generation is never modified after it is published. A writer copies the live one (or
starts empty for `--rebuild`), applies its changes, and then flips `CURRENT`; a crash at
any moment leaves the old generation live and whole. `articles.json` (article id ->
content hash, chunk count, ...) is part of the generation, so the bookkeeping of what is
indexed is published in the same step as the vectors and cannot drift from them.

Left out here: how articles become chunks and vectors (indexer.py), and ranking (search.py).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import IndexLocked, IndexMismatch, IndexNotFound, RagError
from ..tables import search_tables_current, write_search_tables
from .base import ARTICLES, COLLECTION, CURRENT, MANIFEST, PREVIOUS, Generation, Manifest, chroma_settings

log = logging.getLogger(__name__)


class IndexDir:
    """The index directory: which generation is live, and making new ones (see the module
    docstring); the interface `Index` of base.py, a generation named by its folder's name."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def lock_path(self) -> Path:
        return self.path / ".lock"

    def folder(self, generation: str) -> Path:
        """The folder of the generation named `generation`."""
        return self.path / generation

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

    def live(self) -> str | None:
        try:
            name = (self.path / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        return name if (self.path / name / MANIFEST).is_file() else None

    def require_live(self) -> str:
        live = self.live()
        if live is None:
            raise IndexNotFound(f"no index in {self.path}/: build it with `rag index` (articles from seeds/)")
        return live

    def read_manifest(self, generation: str) -> Manifest:
        return Manifest.read(self.folder(generation))

    def read_articles(self, generation: str) -> dict[str, dict[str, Any]]:
        return read_articles(self.folder(generation))

    def _open(self, generation: str) -> Generation:
        import chromadb

        path = self.folder(generation)
        client = chromadb.PersistentClient(path=str(path), settings=chroma_settings())
        collection = client.get_or_create_collection(COLLECTION, configuration={"hnsw": {"space": "cosine"}},
                                                     embedding_function=None)
        return Generation(generation, path, client, collection, owns_client=True)

    def open_generation(self, generation: str) -> Generation:
        if not search_tables_current(self.folder(generation)):
            raise IndexMismatch(f"the search tables of {self.location}/ were built by an older rag: "
                                "run `rag index` (no re-embedding needed)")
        return self._open(generation)

    def tables_outdated(self, generation: str) -> bool:
        return not search_tables_current(self.folder(generation))

    def follow(self, current: str, *, wait: bool = False) -> str | None:
        """None: a reader stays on the generation it opened (kept whole until the next
        switch but one); whoever opened it opens a new one when `stale`."""
        return None

    def stale(self, current: str) -> bool:
        return self.live() != current

    def new_generation(self, copy_of: str | None, expected_chunks: int = 0) -> Generation:
        """A fresh `.tmp` generation folder, a copy of `copy_of` when given.

        Readers may rewrite Chroma's files with identical content when they close, so a
        copy taken at that moment can be torn; a copy whose chunk count is off is retried."""
        self.path.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}.tmp"
            tmp = self.folder(name)
            if copy_of is not None:
                shutil.copytree(self.folder(copy_of), tmp)
            else:
                tmp.mkdir()
            try:
                generation = self._open(name)
                if generation.count() == expected_chunks:
                    return generation
                generation.close()
            except Exception as err:  # a torn copy fails to open in many ways
                log.warning("copy of %s unusable (%s), retrying", copy_of, err)
            shutil.rmtree(tmp, ignore_errors=True)
        raise RagError(f"could not make a consistent copy of {copy_of}; stop the processes using the index and retry")

    def publish(self, generation: Generation, manifest: Manifest, articles: dict[str, dict[str, Any]]) -> str:
        """Write the search tables and the bookkeeping into the `.tmp` folder, then make it
        the live generation in one atomic step; returns its final name."""
        tmp = self.folder(generation.name)
        write_search_tables(generation, tmp)
        generation.close()
        write_metadata(tmp, manifest, articles)
        final = tmp.with_name(tmp.name.removesuffix(".tmp"))
        _fsync_tree(tmp)
        os.rename(tmp, final)
        previous = self.live()
        if previous is not None:
            _write_atomically(self.path / PREVIOUS, previous)
        _write_atomically(self.path / CURRENT, final.name)
        return final.name

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
            keep.add((self.path / PREVIOUS).read_text().strip())
        except FileNotFoundError:
            pass
        removed = freed = 0
        for child in self.path.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child.name not in keep:
                freed += _tree_size(child)
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
        for pattern in (".*.tmp-pointer", f".{CURRENT}.*"):
            for child in self.path.glob(pattern):
                child.unlink(missing_ok=True)
        return removed, freed


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
