"""Find and read source files safely: the layer under `articles`, which knows nothing of
articles. It turns a source (a file or a folder) into the regular files to read, their
bytes into text, and anything that goes wrong into a short reason; `articles` parses the
text. Data flows one way: files -> articles (this module never imports `articles`).

`walk` yields every entry of a source folder either as a file to read or as a `Skipped`
with its reason. Only regular files are opened; symbolic links out of the folder, loops
and second names of a file are passed over (see `walk`), and a file past the size limit
is refused before it is read. `json_depth` and `depth_limited_yaml_loader` hold JSON
lines and YAML front matter to MAX_NESTING levels before they are parsed. Decoding copes
with BOMs, UTF-16, cp1252 and stray invalid UTF-8 bytes. `shown` makes any file name
printable and storable. What this module leaves out: file formats and their fields
(articles.py), and fetching anything from the network.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import BadArticle

MAX_NESTING = 64
"""Deepest nesting of YAML front matter or a JSON line; deeper input is skipped, not parsed."""


@dataclass(frozen=True)
class Skipped:
    """An entry passed over (a file, a folder, a link, a line of a .jsonl) and why."""

    path: str
    reason: str


# ---------------------------------------------------------------- walking sources


_SPECIAL_FILES = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                  (stat.S_ISBLK, "a device"), (stat.S_ISDOOR, "a door"))


def _special_kind(mode: int) -> str:
    return next((name for test, name in _SPECIAL_FILES if test(mode)), "a special file")


def _not_regular(mode: int) -> str:
    return f"not a regular file ({_special_kind(mode)})"


def walk(source: Path, follow_symlinks: bool = False) -> Iterator[tuple[Path, Path] | Skipped]:
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


def read_regular_file(path: Path, max_file_mb: float) -> bytes:
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


# ---------------------------------------------------------------- nesting limits


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


@functools.cache
def depth_limited_yaml_loader() -> type:
    """yaml.SafeLoader that refuses nesting deeper than MAX_NESTING while composing, before
    Python's recursion limit is reached (a few thousand `[` would otherwise raise RecursionError)."""
    import yaml

    class DepthLimitedLoader(yaml.SafeLoader):
        _depth = 0

        def fetch_flow_collection_start(self, TokenClass):
            # Refused while scanning too: the scanner reads a flow collection ahead of the
            # composer, each `[` costing a pass over the open ones (0.7 s for 3,000 `[`).
            if self.flow_level >= MAX_NESTING:
                raise BadArticle(f"YAML front matter nested deeper than {MAX_NESTING} levels")
            super().fetch_flow_collection_start(TokenClass)

        def compose_node(self, parent, index):
            self._depth += 1
            try:
                if self._depth > MAX_NESTING:
                    raise BadArticle(f"YAML front matter nested deeper than {MAX_NESTING} levels")
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return DepthLimitedLoader

