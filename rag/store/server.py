"""The index on a Chroma server (`RAG_CHROMA_URL`): the same generations as folder.py, as collections.

Where each piece of state lives, so that app instances and one indexer on different
machines agree (`C` is RAG_COLLECTION):

    C--gen-<time>-<id>     one collection per generation: chunks, vectors, chunk metadata
    C--meta                small records, each written in one request:
      live                   the live generation's name (+ the previous one): the pointer
      lock                   the writer's lease: holder, expiry
      <gen>/manifest         how <gen> was built (manifest.json in a folder index)
      <gen>/articles/<n>     pages of the article bookkeeping (articles.json)
    RAG_INDEX_DIR/server/  on each machine, a cache of the search tables (lexical index,
                           chunk table, vectors) built from the live collection on first
                           open; derived data, safe to delete

A generation is written completely (chunks, manifest, articles) before the one-record
upsert of `live` makes it live, so a reader that follows the pointer never sees a half-built
collection; the generation live before is kept until the next switch, for readers that are
still on it. Readers re-read the pointer every few seconds (`follow`, called by `Searcher`);
after a switch, a background thread builds the new generation's search tables into this
machine's cache while searches still use the previous generation.

The lease is the honest best that Chroma allows: it has no compare-and-swap, so two writers
starting within the same instant can both believe they hold it. Taking it therefore
re-reads it after a pause, and publishing checks it again; a killed writer's lease expires
after `LEASE_TTL_S`. Run one indexer (a cron job), and treat the lease as a guard against
mistakes, not as a consensus protocol.

Left out: building the chunks (indexer.py), the tables (tables.py) and ranking (search.py).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import IndexLocked, IndexNotFound, RagError
from ..tables import search_tables_current, write_tables_once
from .base import Generation, Manifest, chroma_settings

log = logging.getLogger(__name__)

LEASE_TTL_S = 60.0
LEASE_SETTLE_S = 0.3
ARTICLES_PER_RECORD = 1000
COPY_PAGE = 2000
_META_VECTOR = [1.0]  # Chroma wants a vector for every record; the meta records need none


class ServerIndex:
    """An index kept on a Chroma server: the interface `Index` of base.py, a generation named
    by its collection's name less the prefix."""

    def __init__(self, url: str, *, collection: str = "rag", token: str | None = None,
                 headers: dict[str, str] | None = None, cache_dir: Path = Path("index")) -> None:
        import chromadb

        parts = urlsplit(url)
        self.url = url
        self.prefix = collection
        self.location = f"{url} (collection {collection})"
        self.cache_root = Path(cache_dir) / "server" / f"{_slug(f'{parts.hostname}_{parts.port}')}-{collection}"
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        ssl = parts.scheme == "https"
        # Chroma's type hints are narrower than what it accepts (lists of floats, dicts)
        self._client: Any
        self._meta: Any
        try:
            # Plain http: no TLS, so no certificate store to load (httpx reads it for every client, ~50 ms).
            settings = chroma_settings() if ssl else chroma_settings(chroma_server_ssl_verify=False)
            self._client = chromadb.HttpClient(host=parts.hostname or "localhost", port=parts.port or (443 if ssl else 8000),
                                               ssl=ssl, headers=all_headers or None, settings=settings)
            self._meta = self._client.get_or_create_collection(f"{collection}--meta", embedding_function=None)
        except Exception as err:  # connection refused, TLS, 401/403 from a proxy...
            raise RagError(f"cannot use the Chroma server at {url} (RAG_CHROMA_URL): {err}") from None
        self._holder: str | None = None
        self._lease_lost = threading.Event()
        self._preparing: threading.Thread | None = None

    # -- the pointer -------------------------------------------------------------------

    def _pointer(self) -> dict[str, Any]:
        got = self._meta.get(ids=["live"], include=["metadatas"])
        return got["metadatas"][0] if got["ids"] else {}

    def live(self) -> str | None:
        return self._pointer().get("generation") or None

    def require_live(self) -> str:
        live = self.live()
        if live is None:
            raise IndexNotFound(f"no index in collection {self.prefix!r} on {self.url}: build it with `rag index` "
                                "(with the same RAG_CHROMA_URL)")
        return live

    def publish(self, generation: Generation, manifest: Manifest, articles: dict[str, dict[str, Any]]) -> str:
        """Write the bookkeeping, then make `generation` live in one step: one upsert of the
        pointer record. Its search tables are left to the readers (`open_generation`)."""
        generation.close()
        name = generation.name
        self._write_metadata(name, manifest, articles)
        self._check_lease()
        previous = self.live() or ""
        self._meta.upsert(ids=["live"], embeddings=[_META_VECTOR], documents=[name],
                          metadatas=[{"generation": name, "previous": previous,
                                      "switched_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}])
        return name

    # -- generations -------------------------------------------------------------------

    def _collection_name(self, generation: str) -> str:
        return f"{self.prefix}--{generation}"

    def new_generation(self, copy_of: str | None, expected_chunks: int = 0) -> Generation:
        """A new collection, a copy of `copy_of` when given, checked to hold `expected_chunks`."""
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        target = self._client.create_collection(self._collection_name(name), configuration={"hnsw": {"space": "cosine"}},
                                                embedding_function=None)
        if copy_of is not None:
            # Chroma's fork is a server-side copy, but only hosted Chroma has it so far.
            source = self._client.get_collection(self._collection_name(copy_of), embedding_function=None)
            step = min(COPY_PAGE, int(self._client.get_max_batch_size()))
            for offset in range(0, source.count(), step):
                got = source.get(include=["embeddings", "documents", "metadatas"], limit=step, offset=offset)
                target.add(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"],
                           metadatas=got["metadatas"])
        if target.count() != expected_chunks:
            self._drop(name)
            raise RagError(f"could not make a consistent copy of {copy_of}: {target.count()} chunks, "
                           f"{expected_chunks} expected; retry")
        return Generation(name, self._tables(name), self._client, target, owns_client=False)

    def _open(self, generation: str) -> Generation:
        collection = self._client.get_collection(self._collection_name(generation), embedding_function=None)
        return Generation(generation, self._tables(generation), self._client, collection, owns_client=False)

    def open_generation(self, generation: str) -> Generation:
        """Open `generation`, building its search tables into this machine's cache first if
        they are not there (minutes at 100k+ chunks)."""
        if not search_tables_current(self._tables(generation)):
            self._build_tables(generation)
        return self._open(generation)

    def _build_tables(self, generation: str) -> None:
        opened = self._open(generation)
        try:
            write_tables_once(opened, self._tables(generation))
        finally:
            opened.close()
        self._forget_cached(keep=(generation, self._pointer().get("previous") or None))

    def tables_outdated(self, generation: str) -> bool:
        """False: the readers build the tables, each for itself."""
        return False

    def follow(self, current: str, *, wait: bool = False) -> str | None:
        """The live generation if it is not `current` and its tables are in this machine's
        cache (or `wait`: build them now). Otherwise they are built beside, in a background
        thread, and the reader keeps answering from `current` (kept on the server until the
        next switch)."""
        live = self.require_live()
        if live == current:
            return None
        if not wait and not search_tables_current(self._tables(live)):
            if self._preparing is None or not self._preparing.is_alive():
                self._preparing = threading.Thread(target=self._build_tables, args=(live,), name="rag-tables",
                                                   daemon=True)
                self._preparing.start()
            return None
        return live

    def stale(self, current: str) -> bool:
        """False: a reader follows the live generation by itself (`follow`)."""
        return False

    def _drop(self, generation: str) -> None:
        try:
            self._client.delete_collection(self._collection_name(generation))
        except Exception as err:  # already gone
            log.debug("delete %s: %s", generation, err)
        self._meta.delete(where={"generation": generation})

    def _generations(self) -> list[str]:
        start = f"{self.prefix}--"
        names = [c.name if hasattr(c, "name") else str(c) for c in self._client.list_collections()]
        return [n[len(start):] for n in names if n.startswith(f"{start}gen-")]

    def collect_garbage(self) -> tuple[int, int]:
        """Drop generations neither live nor kept for readers (the caller holds the lease).
        Returns (generations dropped, 0): the server does not say how many bytes they held."""
        pointer = self._pointer()
        keep = (pointer.get("generation") or None, pointer.get("previous") or None)
        removed = 0
        for generation in self._generations():
            if generation not in keep:
                self._drop(generation)
                removed += 1
        # the records of a generation whose writer died between writing them and the collection
        for meta in self._meta.get(where={"kind": "manifest"}, include=["metadatas"])["metadatas"]:
            if meta["generation"] not in keep:
                self._meta.delete(where={"generation": meta["generation"]})
        return removed, 0

    # -- bookkeeping -------------------------------------------------------------------

    def _write_metadata(self, generation: str, manifest: Manifest, articles: dict[str, dict[str, Any]]) -> None:
        items = sorted(articles.items())
        pages = [dict(items[i:i + ARTICLES_PER_RECORD]) for i in range(0, len(items), ARTICLES_PER_RECORD)]
        ids = [f"{generation}/manifest"] + [f"{generation}/articles/{n:06d}" for n in range(len(pages))]
        documents = [json.dumps(asdict(manifest), ensure_ascii=False)] + [json.dumps(p, ensure_ascii=False) for p in pages]
        metadatas = [{"generation": generation, "kind": "manifest"}] + [{"generation": generation, "kind": "articles"}] * len(pages)
        self._meta.upsert(ids=ids, embeddings=[_META_VECTOR] * len(ids), documents=documents, metadatas=metadatas)

    def read_manifest(self, generation: str) -> Manifest:
        got = self._meta.get(ids=[f"{generation}/manifest"], include=["documents"])
        if not got["ids"]:
            raise IndexNotFound(f"generation {generation} in collection {self.prefix!r} on {self.url} has no manifest: "
                                "run `rag index --rebuild`")
        return Manifest.from_json(json.loads(got["documents"][0]), self.location)

    def read_articles(self, generation: str) -> dict[str, dict[str, Any]]:
        got = self._meta.get(where={"$and": [{"generation": generation}, {"kind": "articles"}]}, include=["documents"])
        articles: dict[str, dict[str, Any]] = {}
        for document in got["documents"]:
            articles.update(json.loads(document))
        return articles

    def _tables(self, generation: str) -> Path:
        """This machine's cache of the search tables of `generation`."""
        return self.cache_root / generation

    def _forget_cached(self, keep: tuple[str | None, ...]) -> None:
        """Remove cached search tables of generations other than `keep`."""
        if self.cache_root.is_dir():
            for child in self.cache_root.iterdir():
                if child.is_dir() and child.name.startswith("gen-") and child.name not in keep and ".tmp" not in child.name:
                    shutil.rmtree(child, ignore_errors=True)

    # -- the writer's lease -----------------------------------------------------------

    def _lease(self) -> dict[str, Any]:
        got = self._meta.get(ids=["lock"], include=["metadatas"])
        return got["metadatas"][0] if got["ids"] else {}

    def _write_lease(self, holder: str) -> None:
        self._meta.upsert(ids=["lock"], embeddings=[_META_VECTOR], documents=[""],
                          metadatas=[{"holder": holder, "expires_at": time.time() + LEASE_TTL_S}])

    def _refuse(self, lease: dict[str, Any]) -> IndexLocked:
        until = datetime.fromtimestamp(lease["expires_at"], timezone.utc).isoformat(timespec="seconds")
        return IndexLocked(f"another `rag index` ({lease['holder']}) holds the lease on collection {self.prefix!r} at "
                           f"{self.url} until {until} (renewed while it runs); wait for it to finish")

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold the writer's lease for the collection, renewed in the background; see the
        module docstring for what it can and cannot guarantee."""
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        lease = self._lease()
        if lease and lease["expires_at"] > time.time():
            raise self._refuse(lease)
        self._write_lease(holder)
        time.sleep(LEASE_SETTLE_S)  # a writer that raced us has written by now: the last write wins
        lease = self._lease()
        if lease.get("holder") != holder:
            raise self._refuse(lease)
        self._holder = holder
        self._lease_lost.clear()
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LEASE_TTL_S / 4):
                try:
                    if self._lease().get("holder") != holder:
                        self._lease_lost.set()
                        return
                    self._write_lease(holder)
                except Exception as err:  # the server is away: publish() will find out
                    log.warning("could not renew the index lease: %s", err)

        renewer = threading.Thread(target=renew, name="rag-lease", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self._holder = None
            try:
                if self._lease().get("holder") == holder:
                    self._meta.delete(ids=["lock"])
            except Exception as err:
                log.warning("could not release the index lease (it expires in %.0fs): %s", LEASE_TTL_S, err)

    def _check_lease(self) -> None:
        if self._holder is None:
            return  # publishing outside writer_lock: tests and tools that know what they do
        lease = self._lease()
        if self._lease_lost.is_set() or lease.get("holder") != self._holder:
            raise IndexLocked(f"this `rag index` lost its lease on collection {self.prefix!r} at {self.url} "
                              f"(now held by {lease.get('holder', 'nobody')}); nothing was published")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
