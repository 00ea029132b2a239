"""`rag index` on a folder of hostile entries (tests/corpus.py `write_hostile_inputs`):
links out of the folder and round in circles, a named pipe, a socket, parser bombs,
fields of the wrong type, a file name that is not UTF-8, beside good articles. The run
must finish, list every bad entry with its reason, index the good ones, and read nothing
outside the folder. Then a property test: no bytes make the parser raise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from rag.articles import SUFFIXES, Skipped, parse_file, read_path, read_sources
from rag.errors import BadArticle
from rag.settings import Settings
from rag.store import open_index
from tests.conftest import REPO
from tests.corpus import ODD_NAME_SHOWN, write_hostile_inputs

GOOD = {"antara_style.txt": "Lamboraya", "kabar.md": "Wirakanda", ODD_NAME_SHOWN: "Tanjungwaru"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("hostile")
    folder, outside = root / "folder", root / "outside"
    expects = write_hostile_inputs(folder, outside, big_file_mb=50)
    return folder, outside, expects


def _env(index_dir: Path) -> dict[str, str]:
    return {**os.environ, "RAG_INDEX_DIR": str(index_dir), "RAG_EMBEDDING_MODEL": "hash:64", "HF_HUB_OFFLINE": "1"}


def _rag(*args: str, index_dir: Path) -> subprocess.CompletedProcess[str]:
    # A timeout, not a hang, should the named pipe ever be opened again.
    return subprocess.run([sys.executable, "-m", "rag", *args], env=_env(index_dir), cwd=REPO, capture_output=True,
                          text=True, timeout=240)


def _relative(path: str, folder: Path) -> str:
    return path.removeprefix(f"{folder}/")


def test_rag_index_lists_every_bad_entry_and_indexes_the_good_ones(hostile, tmp_path: Path, rag_main) -> None:
    folder, _, expects = hostile
    index_dir = tmp_path / "index"
    # The first run in a real process, with a timeout: a hang (an opened pipe) fails the test, not the suite.
    done = _rag("index", "--source", str(folder), "--json", index_dir=index_dir)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary = json.loads(done.stdout)
    skipped = {_relative(s["path"], folder): s["reason"] for s in summary["skipped_files"]}
    bad = {e.path: e.reason for e in expects if e.indexed == 0}
    assert set(skipped) == set(bad), "every bad entry listed, and nothing else"
    for path, keyword in bad.items():
        assert keyword in skipped[path].lower(), (path, skipped[path])
    assert summary["articles"]["added"] == len(GOOD)
    assert not (folder / "PWNED").exists(), "the YAML python tag ran a command"

    index = open_index(Settings(index_dir=index_dir))
    stored = index.read_articles(index.live())
    assert sorted(_relative(a["path"], folder) for a in stored.values()) == sorted(GOOD)
    for marker in GOOD.values():
        found = rag_main("search", marker, "-k", "1", "--json", env=_env(index_dir))
        assert found.returncode == 0, found.stderr
        (hit,) = json.loads(found.stdout)
        assert marker in hit["title"]

    strict = rag_main("index", "--source", str(folder), "--strict", env=_env(index_dir))
    assert strict.returncode == 4 and "skipped" in strict.stderr and "Traceback" not in strict.stderr


def test_nothing_outside_the_folder_is_opened(hostile) -> None:
    """Python's audit hook sees every `open` and folder listing of the reading process."""
    folder, outside, _ = hostile
    touched: list[str] = []
    recording = [True]

    def hook(event: str, args: tuple) -> None:
        if recording[0] and event in ("open", "os.scandir", "os.listdir") and args and isinstance(args[0], (str, bytes, os.PathLike)):
            touched.append(os.path.realpath(os.fsdecode(args[0])))

    sys.addaudithook(hook)  # cannot be removed; it stops recording below
    try:
        result = read_sources([folder])
    finally:
        recording[0] = False
    assert {Path(a.path).name for a in result.articles} >= {"antara_style.txt", "kabar.md"}
    outside_paths = (str(outside.resolve()), "/etc/passwd", "/dev/zero")
    leaked = [p for p in touched if p.startswith(outside_paths) or p == "/etc"]
    assert leaked == []
    assert any(p.startswith(str(folder.resolve())) for p in touched), "the hook saw the reads"


def test_follow_symlinks_setting_reads_links_out_of_the_folder(tmp_path: Path) -> None:
    """RAG_FOLLOW_SYMLINKS=1 follows a link to an outside article (once, though two links lead there)."""
    from tests.corpus import OUTSIDE_TXT

    folder, outside = tmp_path / "folder", tmp_path / "outside"
    folder.mkdir()
    (outside / "sub").mkdir(parents=True)
    (outside / "rahasia.txt").write_text(OUTSIDE_TXT)
    os.symlink(outside / "rahasia.txt", folder / "rahasia.txt")
    os.symlink(outside, folder / "luar")
    os.symlink(outside, outside / "sub" / "back")  # a loop through the outside folder
    assert read_sources([folder]).articles == []
    assert Settings.from_env({"RAG_FOLLOW_SYMLINKS": "1"}).follow_symlinks
    followed = read_sources([folder], follow_symlinks=True)
    assert [Path(a.path).name for a in followed.articles] == ["rahasia.txt"]
    reasons = {Path(s.path).name: s.reason for s in followed.skipped}
    assert "same file" in reasons["rahasia.txt"] and "symlink loop" in reasons["back"]


# ---------------------------------------------------------------- property tests

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=60)
FIELDS = st.sampled_from(["id", "title", "text", "date", "published", "source", "url", "author", "editor", "tags"])
RECORDS = st.dictionaries(FIELDS, JSON_VALUES | st.text(min_size=30, max_size=300), max_size=10)


def _nested(depth: int, kind: str) -> str:
    return "[" * depth + "]" * depth if kind == "flow" else "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + "  " * depth + "v"


def _check(articles: list, skipped: list[Skipped]) -> None:
    for article in articles:
        assert isinstance(article.title, str) and isinstance(article.text, str) and article.text
        assert all(isinstance(tag, str) for tag in article.tags)
    for skip in skipped:
        assert isinstance(skip.reason, str) and skip.reason
        skip.reason.encode("utf-8")  # printable and storable: no lone surrogates


def _parse(raw: bytes, kind: str) -> None:
    skipped: list[Skipped] = []
    try:
        articles = parse_file(raw, kind, default_id="x", path="x", skipped=skipped)
    except BadArticle as bad:  # the one exception allowed: the reason the file is skipped
        assert bad.reason
        articles = []
    _check(articles, skipped)


PROPERTY = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(raw=st.binary(max_size=3000), kind=st.sampled_from(sorted(set(SUFFIXES.values()))))
def test_random_bytes_never_raise(raw: bytes, kind: str) -> None:
    _parse(raw, kind)


@PROPERTY
@given(records=st.lists(JSON_VALUES | RECORDS, min_size=1, max_size=5), depth=st.integers(0, 3000))
def test_random_json_lines_never_raise(records: list, depth: int) -> None:
    lines = [json.dumps(r) for r in records] + [_nested(depth, "flow")]
    _parse("\n".join(lines).encode(), "jsonl")


@PROPERTY
@given(meta=st.dictionaries(FIELDS | st.text(max_size=8), JSON_VALUES, max_size=8), depth=st.integers(0, 3000),
       style=st.sampled_from(["flow", "block", "json"]), body=st.text(max_size=400))
def test_random_front_matter_never_raises(meta: dict, depth: int, style: str, body: str) -> None:
    front = json.dumps(meta) if style == "json" else f"deep: {_nested(depth, 'flow')}" if style == "flow" else _nested(min(depth, 300), "block")
    _parse(f"---\n{front}\n---\n{body}\n".encode("utf-8", "surrogatepass"), "markdown")


@hypothesis_settings(max_examples=40, deadline=None)
@given(name=st.binary(min_size=1, max_size=20).filter(lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")),
       raw=st.binary(max_size=500))
def test_any_file_name_and_content_never_raise(tmp_path_factory: pytest.TempPathFactory, name: bytes, raw: bytes) -> None:
    folder = tmp_path_factory.mktemp("names")
    path = folder / os.fsdecode(name + b".txt")
    path.write_bytes(raw)
    skipped: list[Skipped] = []
    articles = read_path(path, Path(path.name), 1.0, skipped)
    assert articles or skipped
    _check(articles, skipped)
    for article in articles:
        article.path.encode("utf-8")
        article.id.encode("utf-8")
    for skip in skipped:
        skip.path.encode("utf-8")
