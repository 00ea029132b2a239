"""`rag index`: bring the index in line with the article sources, incrementally and safely.

An unchanged article costs nothing (its content hash is already recorded); a changed one
has its chunks replaced; an article whose file is gone is removed; the same article under
two file names is stored once. Work happens in a new generation (see store.py) that is
published only when complete, under a lock that admits one writer at a time.

The embedder is loaded only when something must be embedded, so a no-op run is fast.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .articles import Article, ReadResult, Skipped, read_sources
from .chunks import CHUNKER_VERSION, Chunk, chunk_article
from .embeddings import Embedder, load_embedder, rebuild_hint
from .errors import IndexMismatch, RagError
from .settings import Settings
from .duplicates import duplicate_groups
from .search import search_tables_current, write_search_tables
from .store import Generation, Index, IndexDir, Manifest, open_index


log = logging.getLogger(__name__)


@dataclass
class IndexSummary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped_files: list[Skipped] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0
    embedder: str = ""
    fallback_reason: str | None = None
    rebuild_hint: str | None = None
    """For an index built with a fallback embedder, when a better one is available now."""
    index_dir: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": {"added": self.added, "updated": self.updated, "removed": self.removed,
                         "unchanged": self.unchanged, "skipped": len(self.skipped_files)},
            "chunks": self.chunks,
            "embedded": self.embedded,
            "skipped_files": [{"path": s.path, "reason": s.reason} for s in self.skipped_files],
            "seconds": round(self.seconds, 3),
            "embedder": self.embedder,
            "embedder_fallback": self.fallback_reason,
            "rebuild_hint": self.rebuild_hint,
            "index_dir": self.index_dir,
        }


def writer_lock(index: Index) -> AbstractContextManager[None]:
    """Hold the index's writer lock (a flock for a folder, a lease on a server), or raise
    IndexLocked at once if another writer holds it."""
    return index.writer_lock()


def dedupe(articles: list[Article]) -> tuple[dict[str, Article], list[Skipped]]:
    """One article per id and per content; later copies are reported as skipped."""
    by_id: dict[str, Article] = {}
    by_hash: dict[str, Article] = {}
    skipped: list[Skipped] = []
    for article in articles:
        first = by_hash.get(article.content_hash)
        if first is not None:
            skipped.append(Skipped(article.path, f"duplicate of {first.path} (same article)"))
        elif article.id in by_id:
            skipped.append(Skipped(article.path, f"duplicate id {article.id!r} (also in {by_id[article.id].path})"))
        else:
            by_id[article.id] = article
            by_hash[article.content_hash] = article
    return by_id, skipped


def build_index(
    settings: Settings,
    *,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    articles: Iterable[Article] | None = None,
    progress: bool = True,
    on_generation: Callable[[Any], None] | None = None,
) -> IndexSummary:
    """Index `settings.sources` into the configured index (`open_index`); see the module docstring.

    `articles`, when given, is indexed instead of reading `settings.sources`.
    `embedder` overrides the configured one (tests pass a deterministic embedder).
    `on_generation` is called with the unpublished generation (its path, or its name on a
    Chroma server) before it is published (crash tests)."""
    started = time.perf_counter()
    index = open_index(settings)
    summary = IndexSummary(index_dir=index.location)
    read = ReadResult(articles=list(articles)) if articles is not None else read_sources(settings.sources, settings.max_file_mb)
    wanted, duplicates = dedupe(read.articles)
    summary.skipped_files = read.skipped + duplicates

    with index.writer_lock():
        index.remove_unfinished()
        live = None if rebuild else index.live()
        manifest = index.read_manifest(live) if live else None
        stored = index.read_articles(live) if live else {}
        if manifest is not None:
            _check_compatible(manifest, settings, index.location)

        removed = [aid for aid in stored if aid not in wanted]
        changed = [a for aid, a in wanted.items() if aid not in stored or stored[aid]["hash"] != a.content_hash]
        summary.removed = len(removed)
        summary.updated = sum(a.id in stored for a in changed)
        summary.added = len(changed) - summary.updated
        summary.unchanged = len(wanted) - len(changed)
        tables_current = search_tables_current(live) if live is not None and index.tables_in_generation else True
        if live is not None and not changed and not removed and tables_current:
            summary.chunks = manifest.chunks if manifest else 0
            summary.embedder = manifest.embedder["id"] if manifest else ""
            summary.fallback_reason = manifest.embedder.get("fallback_reason") if manifest else None
            summary.rebuild_hint = rebuild_hint(manifest.embedder, settings.embedding_model, settings.embedding_fallback) \
                if manifest else None
            summary.seconds = time.perf_counter() - started
            return summary

        if embedder is None and manifest is not None and changed and manifest.embedder.get("fallback_reason"):
            # Built with a fallback: keep it (queries must match) until `rag index --rebuild`.
            embedder = load_embedder(manifest.embedder["id"])
            embedder.fallback_reason = manifest.embedder["fallback_reason"]
        if embedder is None and (changed or manifest is None):  # a new index records its embedder, even if empty
            embedder = load_embedder(settings.embedding_model, settings.embedding_fallback)
        if embedder is not None and manifest is not None and embedder.id != manifest.embedder["id"]:
            raise IndexMismatch(
                f"index in {index.location}/ was built with embedder {manifest.embedder['id']}, now {embedder.id}: "
                "run `rag index --rebuild`"
            )
        embedder_info = manifest.embedder if embedder is None and manifest else _embedder_info(embedder, settings)
        previous = index.live()
        tmp, generation = _start_generation(index, live, manifest.chunks if manifest else 0)
        try:
            generation.delete_articles(removed + [a.id for a in changed if a.id in stored])
            records = {aid: rec for aid, rec in stored.items() if aid in wanted and aid not in {a.id for a in changed}}
            if changed:
                assert embedder is not None
                summary.embedded = _embed_articles(generation, changed, embedder, settings, records, progress)
            summary.chunks = generation.count()
            if index.tables_in_generation:  # a server's readers each build them in their cache
                write_search_tables(generation, tmp)
            groups = duplicate_groups({aid: a.text for aid, a in wanted.items()})
            for aid, record in records.items():
                record.pop("dup_group", None)
                if aid in groups:
                    record["dup_group"] = groups[aid]
        finally:
            generation.close()
        manifest = Manifest(
            embedder=embedder_info,
            chunking=_chunking_info(settings),
            articles=len(records),
            chunks=summary.chunks,
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            sources=[str(s) for s in settings.sources],
        )
        index.write_metadata(tmp, manifest, records)
        if on_generation is not None:
            on_generation(tmp)
        index.publish(tmp)
        index.collect_garbage(keep_previous=previous)

    summary.embedder = embedder_info["id"]
    summary.fallback_reason = embedder_info.get("fallback_reason")
    summary.rebuild_hint = rebuild_hint(embedder_info, settings.embedding_model, settings.embedding_fallback)
    summary.seconds = time.perf_counter() - started
    return summary


def _start_generation(index: Index, live: Any, expected_chunks: int) -> tuple[Any, Generation]:
    """A writable copy of the live generation (or an empty one), checked before use.

    Readers may rewrite Chroma's files with identical content when they close, so a
    copy taken at that moment can be torn; a copy whose chunk count is off is retried."""
    for _ in range(3):
        tmp = index.new_generation(copy_of=live)
        try:
            generation = index.open_generation(tmp)
            if generation.count() == expected_chunks:
                return tmp, generation
            generation.close()
        except Exception as err:  # a torn copy fails to open in many ways
            log.warning("copy of %s unusable (%s), retrying", live, err)
        index.discard(tmp)
    raise RagError(f"could not make a consistent copy of {live}; stop the processes using the index and retry")


def _embed_articles(
    generation: Generation,
    articles: list[Article],
    embedder: Embedder,
    settings: Settings,
    records: dict[str, dict[str, Any]],
    progress: bool,
) -> int:
    """Chunk, embed and store `articles` in batches; fills `records`. Returns chunks embedded."""
    from tqdm import tqdm

    max_tokens = min(settings.chunk_tokens, embedder.max_tokens)
    embedded = 0
    batch: list[Chunk] = []
    bar = tqdm(total=len(articles), unit="article", desc="embedding", disable=not progress, leave=False)

    def flush() -> None:
        nonlocal embedded
        if not batch:
            return
        vectors = embedder.encode_passages([c.embedding_text() for c in batch])
        generation.add([c.id for c in batch], vectors, [c.text for c in batch], [chunk_metadata(c) for c in batch])
        embedded += len(batch)
        batch.clear()

    for article in articles:
        chunks = chunk_article(article, embedder.count_tokens, max_tokens, settings.chunk_overlap_tokens)
        batch.extend(chunks)
        records[article.id] = article_record(article, len(chunks))
        if len(batch) >= settings.embed_batch_size * 4:
            flush()
        bar.update(1)
        bar.set_postfix(chunks=embedded + len(batch), refresh=False)
    flush()
    bar.close()
    return embedded


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """What Chroma stores beside each chunk; None values are left out (Chroma rejects them)."""
    a = chunk.article
    meta = {
        "article_id": a.id, "article_hash": a.content_hash, "chunk_index": chunk.index,
        "start": chunk.start, "end": chunk.end, "title": a.title, "source": a.source, "url": a.url,
        "author": a.author, "editor": a.editor, "language": a.language, "path": a.path,
        "published": a.published.isoformat() if a.published else None,
        "published_ts": int(a.published.timestamp()) if a.published else None,
        "tags": ", ".join(a.tags) or None,
        # Lower-cased copies for exact, case-insensitive filtering.
        "source_key": a.source.strip().lower() if a.source else None,
        "author_key": a.author.strip().lower() if a.author else None,
    }
    return {k: v for k, v in meta.items() if v is not None}


def article_record(article: Article, chunks: int) -> dict[str, Any]:
    return {"hash": article.content_hash, "chunks": chunks, "title": article.title, "path": article.path,
            "language": article.language,
            "source": article.source, "published": article.published.isoformat() if article.published else None}


def _embedder_info(embedder: Embedder | None, settings: Settings) -> dict[str, Any]:
    assert embedder is not None
    return {"id": embedder.id, "description": embedder.description, "dimension": embedder.dimension,
            "max_tokens": embedder.max_tokens, "requested": settings.embedding_model,
            "fallback_reason": embedder.fallback_reason}


def _chunking_info(settings: Settings) -> dict[str, Any]:
    return {"chunk_tokens": settings.chunk_tokens, "overlap_tokens": settings.chunk_overlap_tokens,
            "chunker_version": CHUNKER_VERSION}


def _check_compatible(manifest: Manifest, settings: Settings, where: str) -> None:
    if manifest.chunking != _chunking_info(settings):
        raise IndexMismatch(
            f"index in {where}/ was chunked with {manifest.chunking}, settings now ask for {_chunking_info(settings)}: "
            "run `rag index --rebuild`"
        )
    if manifest.embedder.get("requested") != settings.embedding_model:
        raise IndexMismatch(
            f"index in {where}/ was built for embedding model {manifest.embedder.get('requested')!r} "
            f"({manifest.embedder['id']}), RAG_EMBEDDING_MODEL is now {settings.embedding_model!r}: run `rag index --rebuild`"
        )
