"""Parse article files into `Article` values: the first stage of the pipeline.

Formats, chosen by file extension:
  .txt              plain text as scraped from a news site (ANTARA's layout: body, then
                    title, date, caption, `Pewarta:`, `Editor:`, copyright, `Tags:`; or
                    title and date first, then the body)
  .md, .markdown    Markdown with optional YAML front matter
  .jsonl            one JSON article a line: id, title, date, source, url, text
  .html, .htm       a web page; the main text is extracted with trafilatura

Finding and reading the files safely (the folder walk, symbolic links, special files,
size and nesting limits, decoding, failure reasons, printable names) is `files.py`'s
job, and checking the types of front matter and JSON fields `fields.py`'s: data flows
files, fields -> articles, and neither imports this module.
`read_sources` and `read_path` never raise for bad input: every entry of a source folder
either yields articles or a `Skipped` with a short reason (so does every bad line of a
.jsonl), whatever goes wrong. Fields of the wrong type are a reason, never coerced.
What this module leaves out: language-aware cleaning beyond dropping boilerplate lines,
and fetching anything from the network.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .dates import YEAR_DIGITS, parse_published
from .errors import BadArticle
from .fields import date_field, id_field, parse_date_value, split_tags, tags_field, text_field
from .files import (MAX_NESTING, Skipped, decode, depth_limited_yaml_loader, failure_reason, json_depth,
                    read_regular_file, shown, walk)
from .language import detect_language

__all__ = [
    "MAX_NESTING", "MIN_BODY_WORDS", "SUFFIXES", "Article", "ReadResult", "Skipped", "article_from_record",
    "detect_language", "markdown_to_text", "parse_file", "parse_html", "parse_markdown", "parse_text", "read_path",
    "read_sources", "slug",
]

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".jsonl": "jsonl", ".html": "html", ".htm": "html"}
MIN_BODY_WORDS = 8


@dataclass(frozen=True)
class Article:
    """One news article with clean body text; `text` is what citations point into."""

    id: str
    title: str
    text: str
    published: datetime | None = None
    source: str | None = None
    url: str | None = None
    author: str | None = None
    editor: str | None = None
    tags: tuple[str, ...] = ()
    language: str = "id"
    path: str = ""

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that is embedded or shown changes; `path` is excluded
        so the same article under two file names hashes the same."""
        fields = [self.title, self.text, self.published.isoformat() if self.published else "",
                  self.source or "", self.url or "", self.author or "", self.editor or "", "|".join(self.tags)]
        return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:32]


@dataclass
class ReadResult:
    """What `read_sources` found: the articles, and every entry passed over with its reason."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


# ---------------------------------------------------------------- reading sources


def read_sources(sources: list[Path] | tuple[Path, ...], max_file_mb: float = 10.0,
                 follow_symlinks: bool = False) -> ReadResult:
    """Read every article under `sources` (files or folders, recursively, sorted)."""
    result = ReadResult()
    for source in sources:
        source = Path(source)
        if not source.exists():
            result.skipped.append(Skipped(shown(source), "source not found"))
            continue
        for entry in walk(source, follow_symlinks):
            if isinstance(entry, Skipped):
                result.skipped.append(entry)
            else:
                result.articles.extend(read_path(*entry, max_file_mb, result.skipped))
    return result


def read_path(path: Path, rel: Path, max_file_mb: float, skipped: list[Skipped]) -> list[Article]:
    """Articles of one file. Never raises: a file that yields none adds a `Skipped` with
    its reason to `skipped` (and so does every bad line of a .jsonl)."""
    where = shown(path)
    try:
        kind = SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise BadArticle(f"unsupported file type {shown(path.suffix) or '(none)'!r}")
        raw = read_regular_file(path, max_file_mb)
        return parse_file(raw, kind, default_id=slug(shown(rel.with_suffix(""))), path=where, skipped=skipped)
    except Exception as err:  # one bad file never stops a run
        skipped.append(Skipped(where, failure_reason(err)))
        return []


def parse_file(raw: bytes, kind: str, default_id: str, path: str = "",
               skipped: list[Skipped] | None = None) -> list[Article]:
    """The articles in one file's bytes; `kind` is a value of `SUFFIXES`. Raises BadArticle
    (and only that) for a file that yields none; bad .jsonl lines go to `skipped`."""
    try:
        text = decode(raw)
        if kind == "jsonl":
            return list(_jsonl_articles(text, path, default_id, skipped if skipped is not None else []))
        parse = {"text": parse_text, "markdown": parse_markdown, "html": parse_html}[kind]
        return [parse(text, default_id=default_id, path=path)]
    except BadArticle:
        raise
    except Exception as err:
        raise BadArticle(failure_reason(err)) from err


# ---------------------------------------------------------------- plain text

_RELATED = re.compile(r"^\s*(baca juga|lihat juga|simak juga|berita terkait|read also|see also)\s*:", re.I)
_COPYRIGHT = re.compile(r"^\s*(copyright|hak cipta|©|\(c\))", re.I)
_CAPTION = re.compile(r"^\s*(foto|caption|keterangan foto|tangkapan layar|ilustrasi)\s*[:\-–]", re.I)
_FIELD = re.compile(r"^\s*(pewarta|reporter|penulis|editor|redaktur|tags?|sumber|source|author|by)\s*:\s*(.*)$", re.I)
_DATELINE_SOURCE = re.compile(r"^[A-Z][\w .'-]{1,40}\((ANTARA|Antara|antara)(?:News)?\)\s*[-–—]")
_SENTENCE_END = ('.', '!', '?', '"', '”', "'", '’', ':', ')')


def parse_text(text: str, default_id: str, path: str = "") -> Article:
    """Parse a scraped plain-text article (see the module docstring for the layouts)."""
    lines = [line.strip() for line in text.split("\n")]
    meta: dict[str, str] = {}
    title = ""
    published = None
    date_at = _find_date_line(lines)
    if date_at is not None:
        published = parse_published(lines[date_at])
        if date_at <= 3:  # title and date first, then the body
            title = next((ln for ln in lines[:date_at] if ln), "")
            body_lines = lines[date_at + 1:]
        else:  # ANTARA: body, title, date, trailer
            before = date_at - 1
            while before >= 0 and not lines[before]:
                before -= 1
            title = lines[before] if before >= 0 else ""
            body_lines = lines[:max(before, 0)]
            _read_fields(lines[date_at + 1:], meta)
    else:
        first = next((i for i, ln in enumerate(lines) if ln), 0)
        if _looks_like_title(lines[first]) and len(lines) > first + 1:
            title, body_lines = lines[first], lines[first + 1:]
        else:
            body_lines = lines
    body = _clean_body(body_lines, meta)
    if not title:
        title = _first_sentence(body)
    source = meta.get("source")
    if not source:
        source = _source_from_text(text)
    return _make_article(
        default_id, title, body, published=published, source=source, author=meta.get("author"),
        editor=meta.get("editor"), tags=split_tags(meta.get("tags", "")), path=path,
    )


def _find_date_line(lines: list[str]) -> int | None:
    """A line that is a date, either near the top or in the trailer at the end."""
    candidates = list(range(min(6, len(lines)))) + list(range(max(len(lines) - 15, 0), len(lines)))
    for i in dict.fromkeys(candidates):
        if lines[i] and len(lines[i]) < 80 and parse_published(lines[i]) is not None:
            return i
    return None


def _read_fields(lines: list[str], meta: dict[str, str]) -> None:
    for line in lines:
        m = _FIELD.match(line)
        if not m:
            continue
        key, value = m.group(1).lower(), m.group(2).strip()
        name = {"pewarta": "author", "reporter": "author", "penulis": "author", "by": "author",
                "redaktur": "editor", "tag": "tags", "sumber": "source"}.get(key, key)
        if value and name not in meta:
            meta[name] = value
        elif name == "tags" and not value:
            meta.setdefault("tags", "")
    for line in lines:
        m = re.search(rf"(?:copyright|hak cipta)\s*(?:©|\(c\))?\s*([A-Za-z][\w .&-]*?)\s*(?:{YEAR_DIGITS})?\s*$", line, re.I)
        if m and "source" not in meta:
            meta["source"] = m.group(1).strip()


def _clean_body(lines: list[str], meta: dict[str, str]) -> str:
    """Drop boilerplate lines; re-join a line that a scraper broke before its last word."""
    kept: list[str] = []
    for line in lines:
        if not line or _RELATED.match(line) or _COPYRIGHT.match(line) or _CAPTION.match(line):
            continue
        field_match = _FIELD.match(line)
        if field_match and len(line) < 80:
            _read_fields([line], meta)
            continue
        if kept and len(line.split()) <= 3 and line.endswith(_SENTENCE_END) and not kept[-1].endswith(_SENTENCE_END):
            kept[-1] = f"{kept[-1]} {line}"
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _looks_like_title(line: str) -> bool:
    return 2 <= len(line.split()) <= 25 and not line.endswith((".", ",", ";"))


def _first_sentence(body: str) -> str:
    first = re.split(r"(?<=[.!?])\s", body.strip(), maxsplit=1)[0]
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "..."


_COPYRIGHT_OUTLET = re.compile(rf"^\s*(?:(?:copyright|hak cipta)\s*(?:©|\(c\))?|©|\(c\))\s*(?:{YEAR_DIGITS}\s+)?"
                               rf"([A-Za-z][\w.&-]*(?: [A-Za-z][\w.&-]*){{0,3}}?)\s*(?:{YEAR_DIGITS})?\.?\s*$", re.I)


def _source_from_text(text: str) -> str | None:
    """The outlet when no field names it: from a dateline ("Bojonegoro (ANTARA) - ...") at the
    start of a line, else from a copyright line ("Copyright © ANTARA 2022"), wherever the title
    and date put them."""
    lines = text.splitlines()
    if any(_DATELINE_SOURCE.match(line.lstrip()) for line in lines):
        return "ANTARA"
    for line in lines:
        m = _COPYRIGHT_OUTLET.match(line)
        if m:
            return "ANTARA" if m.group(1).lower().startswith("antara") else m.group(1)
    return None


# ---------------------------------------------------------------- markdown

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n(?:---|\.\.\.)\s*(?:\n|\Z)", re.S)


def parse_markdown(text: str, default_id: str, path: str = "") -> Article:
    import yaml

    meta: dict = {}
    m = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if m:
        try:
            loaded = yaml.load(m.group(1), Loader=depth_limited_yaml_loader())  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as err:
            raise BadArticle(failure_reason(err)) from None
        meta = loaded if isinstance(loaded, dict) else {}
        text = text[m.end():]
    body_lines, title = [], text_field(meta, "title") or ""
    for line in text.split("\n"):
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading and not title:
            title = heading.group(1)
            continue
        body_lines.append(markdown_to_text(line))
    body = _clean_body([ln.strip() for ln in body_lines], {})
    return _make_article(
        id_field(meta) or default_id, title or _first_sentence(body), body, published=date_field(meta),
        source=text_field(meta, "source"), url=text_field(meta, "url"), author=text_field(meta, "author"),
        editor=text_field(meta, "editor"), tags=tags_field(meta), path=path,
    )


def markdown_to_text(line: str) -> str:
    """Plain text of one Markdown line: images dropped, links to their text, markers removed."""
    line = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line)
    line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)
    line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)
    line = re.sub(r"^\s*>\s?", "", line)
    line = re.sub(r"(\*\*|__|\*|_|`)(\S(?:.*?\S)?)\1", r"\2", line)
    return line


# ---------------------------------------------------------------- json lines


def _jsonl_articles(text: str, path: str, default_id: str, skipped: list[Skipped]) -> Iterator[Article]:
    found = False
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            if json_depth(line) > MAX_NESTING:
                raise BadArticle(f"JSON nested deeper than {MAX_NESTING} levels")
            record = json.loads(line)
            if not isinstance(record, dict):
                raise BadArticle("not a JSON object")
            yield article_from_record(record, default_id=f"{default_id}-{number}", path=where)
            found = True
        except Exception as err:  # one bad line never costs the others
            skipped.append(Skipped(where, failure_reason(err)))
    if not found:
        raise BadArticle("no article text (no valid JSON lines)")


def article_from_record(record: dict, default_id: str, path: str = "") -> Article:
    """An article from a dict with the IndoSum fields (id, title, date, source, url, text).
    Raises BadArticle when a field has the wrong type (a number for `title`, ...)."""
    body = _clean_body([ln.strip() for ln in (text_field(record, "text") or "").split("\n")], {})
    title = text_field(record, "title") or _first_sentence(body)
    return _make_article(
        id_field(record) or default_id, title, body, published=date_field(record),
        source=text_field(record, "source"), url=text_field(record, "url"), author=text_field(record, "author"),
        editor=text_field(record, "editor"), tags=tags_field(record), path=path,
    )


# ---------------------------------------------------------------- html


def parse_html(text: str, default_id: str, path: str = "") -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, include_tables=False,
                                      include_images=False, favor_precision=True)
    body_text = getattr(doc, "text", None) if doc is not None else None
    if not body_text:
        raise BadArticle("no article text (HTML page without a main text)")
    body = _clean_body([ln.strip() for ln in body_text.split("\n")], {})
    published = _html_published(text) or parse_date_value(getattr(doc, "date", None))
    return _make_article(
        default_id, getattr(doc, "title", None) or _first_sentence(body), body, published=published,
        source=getattr(doc, "sitename", None), url=getattr(doc, "url", None), author=getattr(doc, "author", None),
        tags=split_tags(getattr(doc, "tags", None)), path=path,
    )


_HTML_TIME = re.compile(
    r"""<meta[^>]+(?:property|name)=["'](?:article:published_time|pubdate|date)["'][^>]+content=["']([^"']+)["']"""
    r"""|<time[^>]+datetime=["']([^"']+)["']""", re.I)


def _html_published(html: str) -> datetime | None:
    """The page's own publication timestamp, which keeps the time and zone trafilatura drops."""
    m = _HTML_TIME.search(html)
    return parse_published(m.group(1) or m.group(2)) if m else None


# ---------------------------------------------------------------- shared


def _make_article(article_id: str, title: str, body: str, **fields) -> Article:
    if len(body.split()) < MIN_BODY_WORDS:
        raise BadArticle(f"no article text (body has fewer than {MIN_BODY_WORDS} words)")
    return Article(id=article_id, title=" ".join(title.split()), text=body, language=detect_language(body), **fields)


def slug(value: str) -> str:
    """A readable, stable id from a relative path: lowercase words joined by '-'."""
    words = re.findall(r"[a-z0-9]+", value.lower())
    text = "-".join(words)[:80]
    return text or hashlib.sha1(value.encode()).hexdigest()[:12]

