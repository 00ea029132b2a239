"""`rag index`: bring the index in line with its article sources, incrementally and safely.

The index records the sources it was built from (see sources.py for the rules that keep
their articles safe): a run re-reads every recorded source, `add_sources` adds more,
`forget` drops some. An unchanged article costs nothing (its content hash is already
recorded); a changed one has its chunks replaced; an article whose file is gone from a
source that was read is removed; the same article under two file names is stored once.
Work happens in a new generation (see store/) that is published only when complete,
under a lock that admits one writer at a time and is taken before anything is read.

The embedder is loaded only when something must be embedded, so a no-op run is fast.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .articles import Article, Skipped
from .chunks import CHUNKER_VERSION, Chunk, chunk_article
from .embeddings import Embedder, load_embedder, rebuild_hint
from .errors import IndexMismatch, InputsSkipped, NeedsConfirmation, SourceError
from .refs import ArticleRef
from .settings import Settings
from .duplicates import duplicate_groups
from .sources import Plan, SourcePlan, SourceRead, absolute, owner, plan_run, read_source, shown, without_nested
from .store import Generation, Index, Manifest, open_index


log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (articles embedded, articles to embed) as the run goes."""


@dataclass
class IndexSummary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    kept: int = 0
    skipped_files: list[Skipped] = field(default_factory=list)
    sources: list[SourcePlan] = field(default_factory=list)
    recorded_sources: list[str] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0
    embedder: str = ""
    fallback_reason: str | None = None
    rebuild_hint: str | None = None
    """For an index built with a fallback embedder, when a better one is available now."""
    index_dir: str = ""
    dry_run: bool = False
    freed_generations: int = 0
    freed_bytes: int = 0

    @property
    def source_errors(self) -> list[SourcePlan]:
        return [s for s in self.sources if s.error]

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": {"added": self.added, "updated": self.updated, "removed": self.removed,
                         "unchanged": self.unchanged, "kept": self.kept, "skipped": len(self.skipped_files)},
            "sources": [s.to_json() for s in self.sources],
            "recorded_sources": self.recorded_sources,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "skipped_files": [{"path": s.path, "reason": s.reason} for s in self.skipped_files],
            "seconds": round(self.seconds, 3),
            "embedder": self.embedder,
            "embedder_fallback": self.fallback_reason,
            "rebuild_hint": self.rebuild_hint,
            "index_dir": self.index_dir,
            "dry_run": self.dry_run,
            "freed": {"generations": self.freed_generations, "bytes": self.freed_bytes},
        }


def writer_lock(index: Index) -> AbstractContextManager[None]:
    """Hold the index's writer lock (a flock for a folder, a lease on a server), or raise
    IndexLocked at once if another writer holds it."""
    return index.writer_lock()


def dedupe(articles: Iterable[Article]) -> tuple[dict[str, Article], list[Skipped]]:
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
    add_sources: Sequence[Path | str] = (),
    forget: Sequence[Path | str] = (),
    dry_run: bool = False,
    strict: bool = False,
    yes: bool = False,
    ask: Callable[[Plan], bool] | None = None,
    embedder: Embedder | None = None,
    articles: Iterable[Article] | None = None,
    progress: bool = True,
    on_progress: Progress | None = None,
    on_generation: Callable[[str], None] | None = None,
) -> IndexSummary:
    """Update the configured index (`open_index`) from its sources; see the module docstring.

    Sources: those the index records, plus `add_sources`, less `forget`; a new index starts
    from `settings.sources` (RAG_SOURCES, default seeds/) unless `add_sources` are given.
    `dry_run` computes the plan (returned as the summary) and writes nothing. A run that
    would remove more than half of the articles (or more than 100) raises NeedsConfirmation
    before writing, unless `yes` or `ask(plan)` says to go on; `strict` raises InputsSkipped
    before writing when any input was skipped. A source that cannot be read keeps its
    articles, the others are updated, and SourceError (with `.summary`) is raised at the end.

    `articles`, when given, is indexed instead of reading sources (exactly these articles;
    no sources are recorded). `embedder` overrides the configured one (tests pass a
    deterministic embedder). `on_generation` is called with the name of the unpublished
    generation before it is published (crash tests)."""
    started = time.perf_counter()
    index = open_index(settings)
    summary = IndexSummary(index_dir=index.location, dry_run=dry_run)
    with nullcontext() if dry_run else index.writer_lock():
        if not dry_run:
            summary.freed_generations, summary.freed_bytes = index.collect_garbage()
        live = index.live()
        manifest = index.read_manifest(live) if live else None
        stored = index.read_articles(live) if live else {}
        if manifest is not None and not rebuild:
            _check_compatible(manifest, settings, index.location)
        if articles is not None:
            plan = _exact_plan(stored, articles)
        else:
            plan = _plan(settings, manifest, stored, add_sources, forget)
        if rebuild:  # a fresh index: everything read is added to it anew
            for source in plan.sources:
                source.added, source.updated, source.unchanged = source.added + source.updated + source.unchanged, 0, 0
        _fill(summary, plan)
        recorded_before = [absolute(s) for s in manifest.sources] if manifest else None
        if dry_run:
            summary.seconds = time.perf_counter() - started
            if plan.errors:
                raise SourceError(_errors_text(plan, "would be kept"), summary)
            return summary
        if strict and (plan.skipped or plan.errors):
            raise InputsSkipped(f"{len(plan.skipped) + len(plan.errors)} input(s) skipped or unreadable (--strict); "
                                "nothing was changed", summary)
        if plan.needs_confirmation and not yes and not (ask is not None and ask(plan)):
            raise NeedsConfirmation(f"{plan.removal_warning()}; nothing was changed. If that is what you want, "
                                    "run again with --yes (see the plan with --dry-run)", plan=plan)
        if rebuild and (plan.kept or plan.orphans):
            raise SourceError(f"cannot rebuild: {len(plan.kept) + len(plan.orphans)} indexed article(s) cannot be read "
                              "now and would be lost (" + "; ".join(plan.describe()) + "); nothing was changed")
        if (live is not None and not rebuild and not plan.changed and not plan.removed and not index.tables_outdated(live)
                and plan.recorded == recorded_before):
            summary.chunks = manifest.chunks if manifest else 0
            summary.embedder = manifest.embedder["id"] if manifest else ""
            summary.fallback_reason = manifest.embedder.get("fallback_reason") if manifest else None
            summary.rebuild_hint = rebuild_hint(manifest.embedder, settings.embedding_model,
                                                settings.embedding_fallback) if manifest else None
        else:
            info = _write_generation(index, settings, summary, plan, live, manifest, stored, rebuild, embedder,
                                     progress, on_progress, on_generation)
            summary.rebuild_hint = rebuild_hint(info, settings.embedding_model, settings.embedding_fallback)
            freed = index.collect_garbage()
            summary.freed_generations += freed[0]
            summary.freed_bytes += freed[1]
    summary.seconds = time.perf_counter() - started
    if plan.errors:
        raise SourceError(_errors_text(plan, "kept"), summary)
    return summary


def _errors_text(plan: Plan, outcome: str) -> str:
    """One line naming each source that could not be read and what happened to its articles."""
    parts = []
    for source in plan.errors:
        fate = "not added" if source.state == "new" else f"its {source.kept} article(s) {outcome}"
        parts.append(f"source {shown(source.path)}: {source.error} ({fate})")
    return "; ".join(parts) + ("; the other sources were updated" if outcome == "kept" else "")


def _plan(settings: Settings, manifest: Manifest | None, stored: dict[str, dict[str, Any]],
          add_sources: Sequence[Path | str], forget: Sequence[Path | str]) -> Plan:
    recorded = [absolute(s) for s in manifest.sources] if manifest is not None else []
    add = [absolute(s) for s in add_sources]
    if manifest is None and not add:
        add = [absolute(s) for s in settings.sources]
    forgotten = [absolute(s) for s in forget]
    reads: dict[str, SourceRead] = {}
    for source in without_nested([s for s in recorded + add if s not in forgotten]):
        before = sum(owner(absolute(r.get("path") or ""), [source]) is not None for r in stored.values())
        reads[source] = read_source(source, settings.max_file_mb, before, settings.follow_symlinks)
    return plan_run(stored, recorded, add, forgotten, reads, dedupe)


def _exact_plan(stored: dict[str, dict[str, Any]], articles: Iterable[Article]) -> Plan:
    """Index exactly `articles` (evaluation sets, benchmarks): whatever else is stored goes."""
    wanted, duplicates = dedupe(articles)
    changed = [a for aid, a in wanted.items() if aid not in stored or stored[aid]["hash"] != a.content_hash]
    plan = SourcePlan("(articles given)", "indexed", removed=sum(aid not in wanted for aid in stored),
                      updated=sum(a.id in stored for a in changed))
    plan.added = len(changed) - plan.updated
    plan.unchanged = len(wanted) - len(changed)
    return Plan(sources=[plan], recorded=[], wanted=wanted, changed=changed,
                removed=[aid for aid in stored if aid not in wanted], kept=[], orphans=[], skipped=duplicates,
                stored_count=0)


def _fill(summary: IndexSummary, plan: Plan) -> None:
    summary.sources = plan.sources
    summary.recorded_sources = plan.recorded
    summary.skipped_files = plan.skipped
    summary.removed = len(plan.removed)
    summary.kept = len(plan.kept) + len(plan.orphans)
    summary.updated = sum(s.updated for s in plan.sources)
    summary.added = sum(s.added for s in plan.sources)
    summary.unchanged = sum(s.unchanged for s in plan.sources)


def _write_generation(index: Index, settings: Settings, summary: IndexSummary, plan: Plan, live: str | None,
                      manifest: Manifest | None, stored: dict[str, dict[str, Any]], rebuild: bool,
                      embedder: Embedder | None, progress: bool, on_progress: Progress | None,
                      on_generation: Callable[[str], None] | None) -> dict[str, Any]:
    """Write a new generation with the plan's changes and publish it; returns its embedder's info."""
    changed = list(plan.wanted.values()) if rebuild else plan.changed
    if embedder is None and manifest is not None and changed and not rebuild and manifest.embedder.get("fallback_reason"):
        # Built with a fallback: keep it (queries must match) until `rag index --rebuild`.
        embedder = load_embedder(manifest.embedder["id"], settings=settings)
        embedder.fallback_reason = manifest.embedder["fallback_reason"]
    if embedder is None and (changed or manifest is None or rebuild):  # a new index records its embedder, even if empty
        embedder = load_embedder(settings.embedding_model, settings.embedding_fallback, settings)
    if embedder is not None and manifest is not None and not rebuild and embedder.id != manifest.embedder["id"]:
        raise IndexMismatch(
            f"index in {index.location}/ was built with embedder {manifest.embedder['id']}, now {embedder.id}: "
            "run `rag index --rebuild`"
        )
    embedder_info = manifest.embedder if embedder is None and manifest else _embedder_info(embedder, settings)
    base = None if rebuild else live
    generation = index.new_generation(copy_of=base, expected_chunks=manifest.chunks if manifest and base else 0)
    changed_ids = {a.id for a in changed}
    keep = set(plan.kept) | set(plan.orphans) | (set() if rebuild else set(plan.wanted))
    try:
        if base is not None:
            generation.delete_articles(plan.removed + [aid for aid in changed_ids if aid in stored])
        records = {aid: rec for aid, rec in stored.items() if aid in keep and aid not in changed_ids}
        if changed:
            assert embedder is not None
            summary.embedded = _embed_articles(generation, changed, embedder, settings, records, progress, on_progress)
        summary.chunks = generation.count()
        groups = duplicate_groups({aid: a.text for aid, a in plan.wanted.items()})
        for aid, record in records.items():
            if aid in plan.wanted:  # a kept article's text is not at hand: its group stays
                record.pop("dup_group", None)
                if aid in groups:
                    record["dup_group"] = groups[aid]
        new_manifest = Manifest(
            embedder=embedder_info,
            chunking=_chunking_info(settings),
            articles=len(records),
            chunks=summary.chunks,
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            sources=plan.recorded,
        )
        if on_generation is not None:
            on_generation(generation.name)
        index.publish(generation, new_manifest, records)  # writes the tables where this index keeps them
    finally:
        generation.close()
    summary.embedder = embedder_info["id"]
    summary.fallback_reason = embedder_info.get("fallback_reason")
    return embedder_info


def index_sources(settings: Settings) -> list[dict[str, Any]]:
    """The live index's recorded sources with their article counts and whether they are
    there now; articles under no recorded source are grouped by their folder."""
    index = open_index(settings)
    live = index.require_live()
    recorded = [absolute(s) for s in index.read_manifest(live).sources]
    counts = dict.fromkeys(recorded, 0)
    loose: dict[str, int] = {}
    for record in index.read_articles(live).values():
        path = absolute(record.get("path") or "")
        home = owner(path, recorded)
        if home is not None:
            counts[home] += 1
        else:
            folder = str(Path(path).parent)
            loose[folder] = loose.get(folder, 0) + 1
    rows = [{"path": s, "shown": shown(s), "articles": n, "recorded": True, "exists": Path(s).exists()}
            for s, n in counts.items()]
    rows += [{"path": s, "shown": shown(s), "articles": n, "recorded": False, "exists": Path(s).exists()}
             for s, n in sorted(loose.items())]
    return rows


def _embed_articles(
    generation: Generation,
    articles: list[Article],
    embedder: Embedder,
    settings: Settings,
    records: dict[str, dict[str, Any]],
    progress: bool,
    on_progress: Progress | None = None,
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
        if on_progress is not None:
            on_progress(bar.n, len(articles))
        bar.set_postfix(chunks=embedded + len(batch), refresh=False)
    flush()
    bar.close()
    return embedded


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """What Chroma stores beside each chunk; None values are left out (Chroma rejects them)."""
    a = chunk.article
    meta = {
        **ArticleRef.of(a).to_metadata(), "article_hash": a.content_hash, "chunk_index": chunk.index,
        "start": chunk.start, "end": chunk.end, "editor": a.editor, "language": a.language, "path": a.path,
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
