"""Read article files into `Article` values: the first stage of the pipeline.

Formats, chosen by file extension:
  .txt              plain text as scraped from a news site (ANTARA's layout: body, then
                    title, date, caption, `Pewarta:`, `Editor:`, copyright, `Tags:`; or
                    title and date first, then the body)
  .md, .markdown    Markdown with optional YAML front matter
  .jsonl            one JSON article a line: id, title, date, source, url, text
  .html, .htm       a web page; the main text is extracted with trafilatura

`read_path` never raises for bad input: every file either yields articles or a
`Skipped` with a short reason. Decoding copes with BOMs, UTF-16, cp1252 and stray
invalid UTF-8 bytes. What this module leaves out: language-aware cleaning beyond
dropping boilerplate lines, and fetching anything from the network.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .dates import parse_published
from .errors import BadArticle

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


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class ReadResult:
    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


# ---------------------------------------------------------------- walking sources


def read_sources(sources: list[Path] | tuple[Path, ...], max_file_mb: float = 10.0) -> ReadResult:
    """Read every article under `sources` (files or folders, recursively, sorted)."""
    result = ReadResult()
    for source in sources:
        source = Path(source)
        if not source.exists():
            result.skipped.append(Skipped(str(source), "source not found"))
            continue
        root = source if source.is_dir() else source.parent
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for path in files:
            rel = path.relative_to(root)
            if any(part.startswith(".") for part in rel.parts):
                result.skipped.append(Skipped(str(path), "hidden file"))
                continue
            try:
                result.articles.extend(read_path(path, rel, max_file_mb, result.skipped))
            except BadArticle as bad:
                result.skipped.append(Skipped(str(path), bad.reason))
    return result


def read_path(path: Path, rel: Path, max_file_mb: float, skipped: list[Skipped]) -> list[Article]:
    """Articles of one file; raises BadArticle for a file that yields none."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise BadArticle(f"unsupported file type {path.suffix or '(none)'!r}")
    size = path.stat().st_size
    if size > max_file_mb * 1024 * 1024:
        raise BadArticle(f"too large ({size / 1024 / 1024:.1f} MB > {max_file_mb:g} MB, RAG_MAX_FILE_MB)")
    raw = path.read_bytes()
    text = decode(raw)
    default_id = slug(str(rel.with_suffix("")))
    if kind == "jsonl":
        return list(_jsonl_articles(text, path, default_id, skipped))
    parse = {"text": parse_text, "markdown": parse_markdown, "html": parse_html}[kind]
    article = parse(text, default_id=default_id, path=str(path))
    return [article]


# ---------------------------------------------------------------- decoding

_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"PK\x03\x04", b"\xff\xd8\xff", b"GIF8", b"\x7fELF", b"Bud1")
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode(raw: bytes) -> str:
    """Bytes to text. UTF-8 (with stray bad bytes dropped), BOM-marked UTF-16/32, else cp1252."""
    if not raw.strip():
        raise BadArticle("empty file")
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            text = raw.decode(encoding, errors="replace")
            return _check_text(text.replace("\ufffd", ""))
    head = raw[:8192]
    if raw.startswith(_BINARY_MAGIC):
        raise BadArticle("binary file (not text)")
    if b"\x00" in head:
        # UTF-16 without a BOM shows NULs at every other byte for Latin text.
        for encoding, zeros in (("utf-16-le", head[1::2]), ("utf-16-be", head[0::2])):
            if zeros.count(0) > 0.9 * len(zeros):
                return _check_text(raw.decode(encoding, errors="replace").replace("\ufffd", ""))
        raise BadArticle("binary file (not text)")
    try:
        return _check_text(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    utf8 = raw.decode("utf-8", errors="replace")
    # A file with valid multi-byte UTF-8 sequences is UTF-8 with a few broken bytes;
    # one without any is a legacy 8-bit encoding, in news files nearly always cp1252.
    has_multibyte = any(ord(ch) > 0x7F and ch != "\ufffd" for ch in utf8)
    if has_multibyte:
        return _check_text(utf8.replace("\ufffd", ""))
    return _check_text(raw.decode("cp1252", errors="replace").replace("\ufffd", ""))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _check_text(text: str) -> str:
    if not text.strip():
        raise BadArticle("empty file")
    if len(_CONTROL.findall(text[:8192])) > 0.01 * min(len(text), 8192):
        raise BadArticle("binary file (not text)")
    return _CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


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
        editor=meta.get("editor"), tags=_split_tags(meta.get("tags", "")), path=path,
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
        m = re.search(r"(?:copyright|hak cipta)\s*(?:©|\(c\))?\s*([A-Za-z][\w .&-]*?)\s*(?:\d{4})?\s*$", line, re.I)
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


_COPYRIGHT_OUTLET = re.compile(r"^\s*(?:(?:copyright|hak cipta)\s*(?:©|\(c\))?|©|\(c\))\s*(?:\d{4}\s+)?"
                               r"([A-Za-z][\w.&-]*(?: [A-Za-z][\w.&-]*){0,3}?)\s*(?:\d{4})?\.?\s*$", re.I)


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


def _split_tags(value: str | list[str] | None) -> tuple[str, ...]:
    if not value:
        return ()
    items = value if isinstance(value, list) else re.split(r"[,;]", value)
    return tuple(str(t).strip() for t in items if str(t).strip())


# ---------------------------------------------------------------- markdown

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n(?:---|\.\.\.)\s*(?:\n|\Z)", re.S)


def parse_markdown(text: str, default_id: str, path: str = "") -> Article:
    import yaml

    meta: dict = {}
    m = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if m:
        try:
            loaded = yaml.safe_load(m.group(1))
        except yaml.YAMLError as err:
            raise BadArticle(f"invalid YAML front matter: {str(err).splitlines()[0]}") from None
        meta = loaded if isinstance(loaded, dict) else {}
        text = text[m.end():]
    body_lines, title = [], str(meta.get("title") or "")
    for line in text.split("\n"):
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading and not title:
            title = heading.group(1)
            continue
        body_lines.append(markdown_to_text(line))
    body = _clean_body([ln.strip() for ln in body_lines], {})
    published = _parse_date_value(meta.get("date") or meta.get("published"))
    return _make_article(
        str(meta.get("id") or default_id), title or _first_sentence(body), body, published=published,
        source=_str(meta.get("source")), url=_str(meta.get("url")), author=_str(meta.get("author")),
        editor=_str(meta.get("editor")), tags=_split_tags(meta.get("tags")), path=path,
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


def _jsonl_articles(text: str, path: Path, default_id: str, skipped: list[Skipped]) -> Iterator[Article]:
    found = False
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise BadArticle("not a JSON object")
            yield article_from_record(record, default_id=f"{default_id}-{number}", path=where)
            found = True
        except json.JSONDecodeError as err:
            skipped.append(Skipped(where, f"invalid JSON ({err.msg})"))
        except BadArticle as bad:
            skipped.append(Skipped(where, bad.reason))
    if not found:
        raise BadArticle("no article text (no valid JSON lines)")


def article_from_record(record: dict, default_id: str, path: str = "") -> Article:
    """An article from a dict with the IndoSum fields (id, title, date, source, url, text)."""
    body = _clean_body([ln.strip() for ln in str(record.get("text") or "").split("\n")], {})
    title = str(record.get("title") or "") or _first_sentence(body)
    return _make_article(
        str(record.get("id") or default_id), title, body,
        published=_parse_date_value(record.get("date") or record.get("published")),
        source=_str(record.get("source")), url=_str(record.get("url")), author=_str(record.get("author")),
        editor=_str(record.get("editor")), tags=_split_tags(record.get("tags")), path=path,
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
    published = _html_published(text) or _parse_date_value(getattr(doc, "date", None))
    return _make_article(
        default_id, getattr(doc, "title", None) or _first_sentence(body), body, published=published,
        source=getattr(doc, "sitename", None), url=getattr(doc, "url", None), author=getattr(doc, "author", None),
        tags=_split_tags(getattr(doc, "tags", None)), path=path,
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


def _parse_date_value(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else parse_published(value.isoformat())
    if value is None:
        return None
    return parse_published(str(value))


def _str(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None


def slug(value: str) -> str:
    """A readable, stable id from a relative path: lowercase words joined by '-'."""
    words = re.findall(r"[a-z0-9]+", value.lower())
    text = "-".join(words)[:80]
    return text or hashlib.sha1(value.encode()).hexdigest()[:12]


_ID_WORDS = frozenset("yang dan di ini itu dengan untuk dari tidak akan pada juga ke dalam kata adalah telah".split())
_EN_WORDS = frozenset("the and of to in is that for with was on said are it as by".split())


def detect_language(text: str) -> str:
    """'id' or 'en', by counting function words (enough for news prose)."""
    words = re.findall(r"[a-z]+", text[:5000].lower())
    indonesian = sum(w in _ID_WORDS for w in words)
    english = sum(w in _EN_WORDS for w in words)
    return "en" if english > indonesian else "id"
