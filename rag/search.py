"""Hybrid search over a built index: lexical (BM25 for Indonesian) plus dense (Chroma).

For a query:
  1. a time expression in it ("kemarin", "Agustus 2022", "last week") becomes a date
     filter relative to `as_of`, used when the period holds a match at least half as
     good as the best match overall;
  2. candidates are the top chunks of the lexical index and of Chroma, each scored
     by both (the dense score of a lexical-only candidate is computed from its stored
     vector, so fusion never guesses a missing score);
  3. scores are fused as `alpha * lexical/max(lexical) + (1 - alpha) * dense`, with
     `alpha` chosen on the valid splits (`rag eval --tune`): alpha=1 is BM25 alone,
     so the tuned fusion is never worse than BM25 on the data it was chosen on;
  4. hits are articles: the best chunk of each, and near-duplicate articles (one wire
     story from several outlets) collapse into one hit listing every outlet.

Left out: answer generation (answer.py) and LangChain's interface (retriever.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .dates import DateRange, find_time_expression
from .embeddings import Embedder, load_embedder
from .lexical import LexicalIndex
from .store import ARTICLES, Generation, IndexDir, Manifest, read_articles

CHUNK_TABLE = "chunks.json"
LEXICAL_DIR = "lexical"

# Chosen on FacQA and TyDi-id valid (`rag eval --tune`); see README "Search quality".
DEFAULT_ALPHA = 0.7
CANDIDATES = 50
PERIOD_MIN_SCORE_RATIO = 0.5


@dataclass(frozen=True)
class Filters:
    """Restrictions on what a search may return; all given ones must hold."""

    since: datetime | None = None
    until: datetime | None = None
    source: str | None = None
    author: str | None = None

    def is_empty(self) -> bool:
        return self == Filters()


@dataclass
class Hit:
    article_id: str
    title: str
    source: str | None
    published: str | None
    url: str | None
    author: str | None
    chunk_index: int
    start: int
    end: int
    text: str
    score: float
    outlets: list[str] = field(default_factory=list)
    lexical_score: float = 0.0
    dense_score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ChunkTable:
    """Per-chunk fields needed to filter without asking Chroma, in lexical-index order."""

    def __init__(self, rows: dict[str, list]) -> None:
        self.ids: list[str] = rows["ids"]
        self.article_ids = np.array(rows["article_ids"], dtype=object)
        self.published_ts = np.array([t if t is not None else -1 for t in rows["published_ts"]], dtype=np.int64)
        self.source_keys = np.array(rows["source_keys"], dtype=object)
        self.author_keys = np.array(rows["author_keys"], dtype=object)
        self.position = {cid: i for i, cid in enumerate(self.ids)}

    @classmethod
    def load(cls, path: Path) -> ChunkTable:
        return cls(json.loads((path / CHUNK_TABLE).read_text()))

    def mask(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty():
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        if filters.since is not None:
            keep &= self.published_ts >= int(filters.since.timestamp())
        if filters.until is not None:
            keep &= (self.published_ts >= 0) & (self.published_ts < int(filters.until.timestamp()))
        if filters.source:
            keep &= self.source_keys == filters.source.strip().lower()
        if filters.author:
            needle = filters.author.strip().lower()
            keep &= np.array([needle in (a or "") for a in self.author_keys], dtype=bool)
        return keep


def chroma_where(filters: Filters) -> dict | None:
    """The same filters as `ChunkTable.mask`, in Chroma's `where` language (author aside:
    Chroma has no substring match on metadata, so author is checked afterwards)."""
    clauses: list[dict] = []
    if filters.since is not None:
        clauses.append({"published_ts": {"$gte": int(filters.since.timestamp())}})
    if filters.until is not None:
        clauses.append({"published_ts": {"$lt": int(filters.until.timestamp())}})
    if filters.source:
        clauses.append({"source_key": filters.source.strip().lower()})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def intersect(filters: Filters, period: DateRange) -> Filters:
    since = max((d for d in (filters.since, period.since) if d is not None), default=None)
    until = min((d for d in (filters.until, period.until) if d is not None), default=None)
    return Filters(since=since, until=until, source=filters.source, author=filters.author)


class Searcher:
    """An opened index generation and everything needed to search it."""

    def __init__(self, path: Path, manifest: Manifest, embedder: Embedder, alpha: float = DEFAULT_ALPHA) -> None:
        self.path = path
        self.manifest = manifest
        self.embedder = embedder
        self.alpha = alpha
        self.generation = Generation(path)
        self.lexical = LexicalIndex.load(path / LEXICAL_DIR)
        self.table = ChunkTable.load(path)
        self.articles = read_articles(path)

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder | None = None, alpha: float = DEFAULT_ALPHA) -> Searcher:
        live = IndexDir(index_dir).require_live()
        manifest = Manifest.read(live)
        if embedder is None:
            embedder = load_embedder(manifest.embedder["id"])
        return cls(live, manifest, embedder, alpha)

    def close(self) -> None:
        self.generation.close()

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        as_of: datetime | None = None,
        *,
        alpha: float | None = None,
        per_article: bool = True,
        dates_in_query: bool = True,
    ) -> list[Hit]:
        """The best `k` hits for `query`; see the module docstring for the steps."""
        filters = filters or Filters()
        everywhere = self._search(query, k, filters, alpha, per_article)
        period = find_time_expression(query, as_of or datetime.now(timezone.utc).astimezone()) if dates_in_query else None
        if period is None or not everywhere:
            return everywhere
        text = query.replace(period.phrase, " ").strip() or query
        narrowed = self._search(text, k, intersect(filters, period), alpha, per_article)
        # The period is a wish, not a wall: when nothing in it matches nearly as well as
        # the best match overall ("pada tahun 1998" may be the event's year, not the
        # article's), the unrestricted results are more useful.
        if narrowed and narrowed[0].score >= PERIOD_MIN_SCORE_RATIO * everywhere[0].score:
            return narrowed
        return everywhere

    def _search(self, query: str, k: int, filters: Filters, alpha: float | None, per_article: bool) -> list[Hit]:
        alpha = self.alpha if alpha is None else alpha
        mask = self.table.mask(filters)
        if mask is not None and not mask.any():
            return []
        pool = CANDIDATES + 4 * k if per_article else CANDIDATES
        lexical = dict(self.lexical.search(query, pool, allowed=mask)) if alpha > 0 else {}
        dense: dict[int, float] = {}
        vector = self.embedder.encode_queries([query])[0] if alpha < 1 else None
        if vector is not None and self.table.ids:
            for chunk_id, score in self.generation.nearest(vector, min(pool, len(self.table.ids)), chroma_where(filters)):
                i = self.table.position.get(chunk_id)
                if i is not None and (mask is None or mask[i]):
                    dense[i] = score
            missing = [i for i in lexical if i not in dense]
            if missing:
                dense.update(zip(missing, self._dense_scores(vector, missing)))
        top_lexical = max(lexical.values(), default=0.0) or 1.0
        fused = {i: alpha * lexical.get(i, 0.0) / top_lexical + (1 - alpha) * dense.get(i, 0.0)
                 for i in set(lexical) | set(dense)}
        ranked = sorted(fused, key=lambda i: (-fused[i], self.table.ids[i]))
        return self._to_hits(ranked, fused, lexical, dense, k, per_article)

    def _dense_scores(self, vector: np.ndarray, positions: list[int]) -> list[float]:
        ids = [self.table.ids[i] for i in positions]
        got = self.generation.collection.get(ids=ids, include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"]))
        return [float(np.dot(by_id[cid], vector)) if cid in by_id else 0.0 for cid in ids]

    def _to_hits(self, ranked: list[int], fused: dict[int, float], lexical: dict[int, float],
                 dense: dict[int, float], k: int, per_article: bool) -> list[Hit]:
        chosen: list[int] = []
        groups: dict[str, int] = {}  # duplicate group (or article) -> index in chosen
        outlets: dict[int, list[str]] = {}
        for i in ranked:
            article_id = self.table.article_ids[i]
            record = self.articles.get(article_id, {})
            group = record.get("dup_group", article_id) if per_article else self.table.ids[i]
            if group in groups:
                first = chosen[groups[group]]
                source = record.get("source")
                if source and source not in outlets[first] and self.table.article_ids[first] != article_id:
                    outlets[first].append(source)
                continue
            if len(chosen) == k:
                continue  # keep scanning only to collect outlets of chosen duplicates
            groups[group] = len(chosen)
            chosen.append(i)
            outlets[i] = [record["source"]] if record.get("source") else []
        if not chosen:
            return []
        got = self.generation.collection.get(ids=[self.table.ids[i] for i in chosen], include=["documents", "metadatas"])
        rows = {cid: (doc, meta) for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}
        hits = []
        for i in chosen:
            doc, meta = rows[self.table.ids[i]]
            hits.append(Hit(
                article_id=meta["article_id"], title=meta.get("title", ""), source=meta.get("source"),
                published=meta.get("published"), url=meta.get("url"), author=meta.get("author"),
                chunk_index=meta["chunk_index"], start=meta["start"], end=meta["end"], text=doc,
                score=round(fused[i], 6), outlets=outlets[i], lexical_score=round(lexical.get(i, 0.0), 4),
                dense_score=round(dense.get(i, 0.0), 4),
            ))
        return hits


def search_tables_current(path: Path) -> bool:
    """Whether a generation's lexical index was built the way this version builds it
    (an analyzer change needs new tables, though no new embeddings)."""
    from .lexical import DEFAULT_ANALYZER, DEFAULT_B, DEFAULT_K1, FORMAT_VERSION, META_FILE

    try:
        meta = json.loads((path / LEXICAL_DIR / META_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    bm25 = meta.get("bm25", {})
    return (meta.get("version") == FORMAT_VERSION and meta.get("analyzer") == DEFAULT_ANALYZER.to_dict()
            and (bm25.get("k1"), bm25.get("b")) == (DEFAULT_K1, DEFAULT_B))


def write_search_tables(generation: Generation, path: Path) -> None:
    """Build the lexical index and chunk table of a generation from what Chroma holds,
    so that they always describe exactly the stored chunks."""
    ids: list[str] = []
    texts: list[str] = []
    metas: list[dict] = []
    page = 5000
    for offset in range(0, generation.count(), page):
        got = generation.collection.get(include=["documents", "metadatas"], limit=page, offset=offset)
        ids.extend(got["ids"])
        texts.extend(got["documents"])
        metas.extend(got["metadatas"])
    order = sorted(range(len(ids)), key=ids.__getitem__)
    ids = [ids[i] for i in order]
    metas = [metas[i] for i in order]
    texts = [f"{metas[j].get('title', '')}\n{texts[i]}" for j, i in enumerate(order)]
    LexicalIndex.build(texts, ids).save(path / LEXICAL_DIR)
    table = {
        "ids": ids,
        "article_ids": [m["article_id"] for m in metas],
        "published_ts": [m.get("published_ts") for m in metas],
        "source_keys": [m.get("source_key") for m in metas],
        "author_keys": [m.get("author_key") for m in metas],
    }
    (path / CHUNK_TABLE).write_text(json.dumps(table, ensure_ascii=False))


__all__ = ["ARTICLES", "Filters", "Hit", "Searcher", "write_search_tables"]
