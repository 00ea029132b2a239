"""`ArticleRef`: which article a hit or a citation points at, and what a reader is shown of
it (title, outlet, date, link, author). The one value for an article's identity and
metadata: the indexer writes it into each chunk's metadata (`to_metadata`), the searcher
reads it back (`from_metadata`), and `Hit` and `Citation` carry it, so that the six
fields are named in one place and every JSON output lists them the same way (`to_json`).

Left out: the article itself (articles.py) and the chunk's offsets (chunks.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar, cast, overload

from .articles import Article

T = TypeVar("T")


@dataclass(frozen=True)
class ArticleRef:
    """An article's id and shown metadata; `published` is an ISO 8601 string."""

    article_id: str
    title: str = ""
    source: str | None = None
    published: str | None = None
    url: str | None = None
    author: str | None = None

    @classmethod
    def of(cls, article: Article) -> ArticleRef:
        return cls(article.id, article.title, article.source,
                   article.published.isoformat() if article.published else None, article.url, article.author)

    def to_metadata(self) -> dict[str, str]:
        """The fields as stored beside a chunk; None values are left out (Chroma rejects them)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> ArticleRef:
        """The reference in a chunk's stored metadata (`to_metadata`, among other keys)."""
        return cls(meta["article_id"], meta.get("title", ""), meta.get("source"), meta.get("published"),
                   meta.get("url"), meta.get("author"))

    def to_json(self) -> dict[str, Any]:
        """All six fields, None included, in the order the JSON outputs list them."""
        return asdict(self)


class _FromRef(Generic[T]):
    """An attribute read from the same-named field of the value's `ref`."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, value: None, owner: type | None = None) -> _FromRef[T]: ...
    @overload
    def __get__(self, value: HasRef, owner: type | None = None) -> T: ...

    def __get__(self, value: HasRef | None, owner: type | None = None) -> T | _FromRef[T]:
        return self if value is None else cast(T, getattr(value.ref, self.name))


class HasRef:
    """Read-only access to a value's `ref` under the fields' own names (`hit.title`, ...)."""

    ref: ArticleRef
    article_id = _FromRef[str]()
    title = _FromRef[str]()
    source = _FromRef[str | None]()
    published = _FromRef[str | None]()
    url = _FromRef[str | None]()
    author = _FromRef[str | None]()


__all__ = ["ArticleRef", "HasRef"]
