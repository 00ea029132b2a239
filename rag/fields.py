"""The typed fields of untrusted records, for `articles`: YAML front matter and JSON lines.

A value of the wrong type is a reason to skip the article (`BadArticle`), never something
to coerce with str(): a list as a title, a number as the text. Dates are read with
`dates.parse_published`, tags from text ("a, b; c") or a list of texts. Data flows one
way: this module knows nothing of `Article`; `articles` builds them from what it returns.
"""

from __future__ import annotations

import re
from datetime import datetime

from .dates import parse_published
from .errors import BadArticle


def split_tags(value: str | list[str] | None) -> tuple[str, ...]:
    """Tags from "a, b; c" or a list, stripped, empty ones dropped."""
    if not value:
        return ()
    items = value if isinstance(value, list) else re.split(r"[,;]", value)
    return tuple(str(t).strip() for t in items if str(t).strip())


def parse_date_value(value: object) -> datetime | None:
    """A publication date from text or a datetime (a naive one read as `parse_published` reads it)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else parse_published(value.isoformat())
    if value is None:
        return None
    return parse_published(str(value))


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def text_field(record: dict, name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadArticle(f"field {name!r} must be text, not {_kind_of(value)}")
    return value.strip() or None


def id_field(record: dict) -> str | None:
    value = record.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text_field(record, "id")


def date_field(record: dict) -> datetime | None:
    """`date` (or `published`): text, or a date YAML has already parsed."""
    from datetime import date

    for name in ("date", "published"):
        value = record.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, datetime):
            return parse_date_value(value)
        if isinstance(value, date):
            return parse_date_value(value.isoformat())
        if not isinstance(value, str):
            raise BadArticle(f"field {name!r} must be a date as text, not {_kind_of(value)}")
        return parse_date_value(value)
    return None


def tags_field(record: dict) -> tuple[str, ...]:
    value = record.get("tags")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return split_tags(value)
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return split_tags(value)
    raise BadArticle("field 'tags' must be text or a list of texts")
