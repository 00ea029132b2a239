"""Read article files into `Article` values: the first stage of the pipeline.

Formats, chosen by file extension:
  .txt              plain text as scraped from a news site (ANTARA's layout: body, then
                    title, date, caption, `Pewarta:`, `Editor:`, copyright, `Tags:`; or
                    title and date first, then the body)
  .md, .markdown    Markdown with optional YAML front matter
  .jsonl            one JSON article a line: id, title, date, source, url, text
  .html, .htm       a web page; the main text is extracted with trafilatura

`read_sources` and `read_path` never raise for bad input: every entry of a source folder
either yields articles or a `Skipped` with a short reason (so does every bad line of a
.jsonl), whatever goes wrong. Only regular files are opened; symbolic links out of the
folder, loops and second names of a file are passed over (see `_walk`). Front matter and
JSON lines are refused past MAX_NESTING levels, and fields of the wrong type are a reason,
never coerced. Decoding copes with BOMs, UTF-16, cp1252 and stray invalid UTF-8 bytes.
What this module leaves out: language-aware cleaning beyond dropping boilerplate lines,
and fetching anything from the network.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .dates import parse_published
from .errors import BadArticle

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".jsonl": "jsonl", ".html": "html", ".htm": "html"}
MIN_BODY_WORDS = 8
MAX_NESTING = 64
"""Deepest nesting of YAML front matter or a JSON line; deeper input is skipped, not parsed."""


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


def read_sources(sources: list[Path] | tuple[Path, ...], max_file_mb: float = 10.0,
                 follow_symlinks: bool = False) -> ReadResult:
    """Read every article under `sources` (files or folders, recursively, sorted)."""
    result = ReadResult()
    for source in sources:
        source = Path(source)
        if not source.exists():
            result.skipped.append(Skipped(shown(source), "source not found"))
            continue
        for entry in _walk(source, follow_symlinks):
            if isinstance(entry, Skipped):
                result.skipped.append(entry)
            else:
                result.articles.extend(read_path(*entry, max_file_mb, result.skipped))
    return result


_SPECIAL_FILES = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                  (stat.S_ISBLK, "a device"), (stat.S_ISDOOR, "a door"))


def _special_kind(mode: int) -> str:
    return next((name for test, name in _SPECIAL_FILES if test(mode)), "a special file")


def _not_regular(mode: int) -> str:
    return f"not a regular file ({_special_kind(mode)})"


def _walk(source: Path, follow_symlinks: bool = False) -> Iterator[tuple[Path, Path] | Skipped]:
    """The files to read under `source`, as (path, path relative to the source folder),
    and a `Skipped` for every entry passed over.

    Nothing but regular files is ever opened (a named pipe would block the run). The
    folder itself is walked without following links; each symbolic link is resolved
    afterwards: one that points outside the source folder is skipped unless
    `follow_symlinks` (RAG_FOLLOW_SYMLINKS) is set; one whose target is read anyway, under
    its own name or through another link, is skipped as the same file, so nothing is read
    twice and a link to a folder that contains it (`loop -> .`) ends there."""
    if not source.is_dir():
        if source.name.startswith("."):
            yield Skipped(shown(source), "hidden file")
        else:
            yield source, Path(source.name)
        return
    root = Path(os.path.realpath(source))
    found: list[Path] = []
    skipped: list[Skipped] = []
    links: list[Path] = []
    seen: dict[tuple[int, int], Path] = {}  # (device, inode) of every folder and file read -> its path
    top = source.stat()
    seen[(top.st_dev, top.st_ino)] = source

    def scan(folder: Path) -> None:
        pending = [folder]
        while pending:  # a stack rather than recursion: folder depth is not bounded by Python's
            current = pending.pop()
            try:
                with os.scandir(current) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError as err:
                skipped.append(Skipped(shown(current), f"folder cannot be read ({err.strerror})"))
                continue
            for entry in entries:
                path = Path(entry.path)
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError as err:
                    skipped.append(Skipped(shown(path), f"cannot be read ({err.strerror})"))
                    continue
                if entry.name.startswith("."):
                    hidden = "hidden folder" if stat.S_ISDIR(info.st_mode) else "hidden file"
                    skipped.append(Skipped(shown(path), hidden))
                elif stat.S_ISLNK(info.st_mode):
                    links.append(path)
                elif stat.S_ISDIR(info.st_mode):
                    seen[(info.st_dev, info.st_ino)] = path
                    pending.append(path)
                elif stat.S_ISREG(info.st_mode):
                    seen[(info.st_dev, info.st_ino)] = path
                    found.append(path)
                else:
                    skipped.append(Skipped(shown(path), _not_regular(info.st_mode)))

    scan(source)
    while links:  # links found inside followed folders come in the next round
        batch, links = sorted(links), []
        for link in batch:
            reason = _link_problem(link, root, seen, follow_symlinks)
            if reason:
                skipped.append(Skipped(shown(link), reason))
                continue
            info = link.stat()
            seen[(info.st_dev, info.st_ino)] = link
            if stat.S_ISDIR(info.st_mode):
                scan(link)
            else:
                found.append(link)
    yield from skipped
    for path in sorted(found):
        yield path, path.relative_to(source)


def _link_problem(link: Path, root: Path, seen: dict[tuple[int, int], Path], follow_symlinks: bool) -> str | None:
    """Why the symbolic link `link` is not followed, or None when its target is to be read."""
    try:
        info = link.stat()
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "symlink loop (the link points back at itself)"
        if err.errno == errno.ENOENT:
            return f"dangling symlink (its target {shown(os.readlink(link))} does not exist)"
        return f"symlink cannot be followed ({err.strerror})"
    target = Path(os.path.realpath(link))
    is_folder = stat.S_ISDIR(info.st_mode)
    if not is_folder and not stat.S_ISREG(info.st_mode):
        return f"symlink to {_special_kind(info.st_mode)}, not a regular file"
    first = seen.get((info.st_dev, info.st_ino))
    if first is not None:
        if is_folder and Path(os.path.realpath(link.parent)).is_relative_to(target):
            return f"symlink loop (points to {shown(first)}, a folder that contains it)"
        return f"same {'folder' if is_folder else 'file'} as {shown(first)} (read once)"
    if not target.is_relative_to(root):
        return None if follow_symlinks else "points outside the source folder (RAG_FOLLOW_SYMLINKS=1 follows it)"
    # Inside the folder but not read under its own name: it lies in a hidden folder.
    return "points to a hidden file or folder"


def shown(path: Path | str) -> str:
    """`path` as printable, storable text: bytes of a file name that are not UTF-8 become
    `\\xff` escapes and control characters `\\x1b` escapes (Chroma metadata and JSON need
    valid text, and a terminal must not run escape codes from a file name)."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return _NAME_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def read_path(path: Path, rel: Path, max_file_mb: float, skipped: list[Skipped]) -> list[Article]:
    """Articles of one file. Never raises: a file that yields none adds a `Skipped` with
    its reason to `skipped` (and so does every bad line of a .jsonl)."""
    where = shown(path)
    try:
        kind = SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise BadArticle(f"unsupported file type {shown(path.suffix) or '(none)'!r}")
        raw = _read_regular_file(path, max_file_mb)
        return parse_file(raw, kind, default_id=slug(shown(rel.with_suffix(""))), path=where, skipped=skipped)
    except Exception as err:  # one bad file never stops a run
        skipped.append(Skipped(where, failure_reason(err)))
        return []


def _read_regular_file(path: Path, max_file_mb: float) -> bytes:
    # O_NONBLOCK: should the name have become a named pipe since the walk, opening it does not block.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise BadArticle(_not_regular(info.st_mode))
        limit = int(max_file_mb * 1024 * 1024)
        if info.st_size > limit:
            raise BadArticle(f"too large ({info.st_size / 1024 / 1024:.1f} MB > {max_file_mb:g} MB, RAG_MAX_FILE_MB)")
        raw = file.read(limit + 1)
    if len(raw) > limit:
        raise BadArticle(f"too large (grew past {max_file_mb:g} MB while being read, RAG_MAX_FILE_MB)")
    return raw


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


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 3].rsplit(" ", 1)[0] + "..."


def failure_reason(err: BaseException) -> str:
    """A short, lowercase reason for a skip, from whatever went wrong while reading a file."""
    import yaml

    if isinstance(err, BadArticle):
        reason = err.reason
    elif isinstance(err, json.JSONDecodeError):
        reason = f"invalid JSON ({err.msg})"
    elif isinstance(err, yaml.YAMLError):
        first = next(iter(str(err).splitlines()), "")
        reason = f"invalid YAML front matter: {first}" if first else "invalid YAML front matter"
    elif isinstance(err, RecursionError):
        reason = f"nested too deeply (more than {MAX_NESTING} levels)"
    elif isinstance(err, MemoryError):
        reason = "too large to read into memory"
    elif isinstance(err, OSError):
        reason = f"cannot be read ({err.strerror or type(err).__name__})"
    else:
        reason = f"cannot be read as an article ({type(err).__name__}: {_shorten(str(err), 100)})"
    return reason.encode("utf-8", "backslashreplace").decode("utf-8")


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
            loaded = yaml.load(m.group(1), Loader=_depth_limited_loader())  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as err:
            raise BadArticle(failure_reason(err)) from None
        meta = loaded if isinstance(loaded, dict) else {}
        text = text[m.end():]
    body_lines, title = [], _text_field(meta, "title") or ""
    for line in text.split("\n"):
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading and not title:
            title = heading.group(1)
            continue
        body_lines.append(markdown_to_text(line))
    body = _clean_body([ln.strip() for ln in body_lines], {})
    return _make_article(
        _id_field(meta) or default_id, title or _first_sentence(body), body, published=_date_field(meta),
        source=_text_field(meta, "source"), url=_text_field(meta, "url"), author=_text_field(meta, "author"),
        editor=_text_field(meta, "editor"), tags=_tags_field(meta), path=path,
    )


@functools.cache
def _depth_limited_loader() -> type:
    """yaml.SafeLoader that refuses nesting deeper than MAX_NESTING while composing, before
    Python's recursion limit is reached (a few thousand `[` would otherwise raise RecursionError)."""
    import yaml

    class DepthLimitedLoader(yaml.SafeLoader):
        _depth = 0

        def compose_node(self, parent, index):
            self._depth += 1
            try:
                if self._depth > MAX_NESTING:
                    raise BadArticle(f"YAML front matter nested deeper than {MAX_NESTING} levels")
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return DepthLimitedLoader


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


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(line: str) -> int:
    """How deeply the JSON text `line` nests arrays and objects, counted without parsing it
    (brackets inside strings do not count)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", line))
    depth = deepest = 0
    for char in brackets:
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def article_from_record(record: dict, default_id: str, path: str = "") -> Article:
    """An article from a dict with the IndoSum fields (id, title, date, source, url, text).
    Raises BadArticle when a field has the wrong type (a number for `title`, ...)."""
    body = _clean_body([ln.strip() for ln in (_text_field(record, "text") or "").split("\n")], {})
    title = _text_field(record, "title") or _first_sentence(body)
    return _make_article(
        _id_field(record) or default_id, title, body, published=_date_field(record),
        source=_text_field(record, "source"), url=_text_field(record, "url"), author=_text_field(record, "author"),
        editor=_text_field(record, "editor"), tags=_tags_field(record), path=path,
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


# Field checks for front matter and JSON records: a value of the wrong type is a reason
# to skip the article, never something to coerce with str() (a list title, a number text).

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


def _text_field(record: dict, name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadArticle(f"field {name!r} must be text, not {_kind_of(value)}")
    return value.strip() or None


def _id_field(record: dict) -> str | None:
    value = record.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text_field(record, "id")


def _date_field(record: dict) -> datetime | None:
    """`date` (or `published`): text, or a date YAML has already parsed."""
    from datetime import date

    for name in ("date", "published"):
        value = record.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, datetime):
            return _parse_date_value(value)
        if isinstance(value, date):
            return _parse_date_value(value.isoformat())
        if not isinstance(value, str):
            raise BadArticle(f"field {name!r} must be a date as text, not {_kind_of(value)}")
        return _parse_date_value(value)
    return None


def _tags_field(record: dict) -> tuple[str, ...]:
    value = record.get("tags")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return _split_tags(value)
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return _split_tags(value)
    raise BadArticle("field 'tags' must be text or a list of texts")


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
