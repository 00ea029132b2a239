"""LangChain's retriever interface over `Searcher`: `get_retriever(...).invoke(query)`.

Each `Document` is the best chunk of one article (near-duplicates collapsed), with the
article's metadata and the chunk's character offsets in the article body.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from .dates import parse_published, parse_until
from .embeddings import Embedder
from .errors import ConfigError
from .search import Filters, Hit, Searcher
from .settings import DEFAULT_K
from .store import Index


class NewsRetriever(BaseRetriever):
    """Hybrid news search as a LangChain retriever; usable in any LCEL chain.

    `k`, the filters and `as_of` set here can be changed for one call, as LangChain's
    retrievers do: `retriever.invoke(query, k=1, source="ANTARA", until="2022-08-13")`.
    A filter given at invoke time replaces the same filter set here; the others stay."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Searcher
    k: int = Field(default=DEFAULT_K, ge=1)
    filters: Filters = Filters()
    as_of: datetime | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None,
        since: datetime | date | str | None = None, until: datetime | date | str | None = None,
        source: str | None = None, author: str | None = None, as_of: datetime | date | str | None = None,
    ) -> list[Document]:
        k = self.k if k is None else k
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"k={k!r}: the number of documents must be a whole number of at least 1")
        filters = self.filters
        if since is not None:
            filters = replace(filters, since=_as_datetime(since, "since"))
        if until is not None:
            filters = replace(filters, until=_as_datetime(until, "until"))
        if source is not None:
            filters = replace(filters, source=source)
        if author is not None:
            filters = replace(filters, author=author)
        moment = self.as_of if as_of is None else _as_datetime(as_of, "as_of")
        hits = self.searcher.search(query, k=k, filters=filters, as_of=moment)
        return [hit_document(hit) for hit in hits]


def hit_document(hit: Hit) -> Document:
    metadata = {
        **hit.ref.to_json(), "chunk_index": hit.chunk_index, "start": hit.start, "end": hit.end,
        "score": hit.score, "outlets": hit.outlets, "duplicates": hit.duplicates,
    }
    return Document(page_content=hit.text, metadata=metadata, id=f"{hit.article_id}#{hit.chunk_index}")


def _as_datetime(value: datetime | date | str | None, name: str) -> datetime | None:
    """A bound given as a datetime (that moment), a date or a date string. For `until`, a
    date without a time includes its whole day (see `dates.parse_until`)."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        value = value.isoformat()
    parsed = parse_until(value) if name == "until" else parse_published(value)
    if parsed is None:
        raise ConfigError(f"{name}={value!r} is not a date (try '2022-08-13' or '13 Agustus 2022')")
    return parsed


def get_retriever(
    index_dir: str | Path | Index = "index",
    k: int = DEFAULT_K,
    *,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    source: str | None = None,
    author: str | None = None,
    as_of: datetime | str | None = None,
    embedder: Embedder | None = None,
) -> NewsRetriever:
    """Open the index in `index_dir` (or `store.open_index(settings)`, e.g. on a Chroma
    server) and return a retriever of the `k` best articles.

    Filters combine: published on or after `since` and up to `until` (a date without a time,
    "2022-08-14" or a `date`, includes that day; a datetime is an exclusive moment), the
    outlet `source` (case-insensitive), an `author` name fragment. `as_of` anchors time
    words in queries ("kemarin")."""
    filters = Filters(since=_as_datetime(since, "since"), until=_as_datetime(until, "until"), source=source, author=author)
    return NewsRetriever(searcher=Searcher.open(index_dir, embedder=embedder), k=k, filters=filters,
                         as_of=_as_datetime(as_of, "as_of"))
