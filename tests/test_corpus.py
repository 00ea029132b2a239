"""Tests of the test corpus itself (tests/corpus.py): the files hold the promised bytes."""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

import pytest

try:
    from tests.corpus import MB, Expect, write_all, write_bad_inputs, write_good_articles
except ImportError:  # tests/ on sys.path, project root not
    from corpus import MB, Expect, write_all, write_bad_inputs, write_good_articles

SMALL_MB = 11  # just above the 10 MB default limit, quick to write

# Files whose bytes are not text at all.
BINARY = {"image.txt", ".DS_Store", "notes.docx"}
ENCODING = {"cp1252.txt": "cp1252", "utf16.txt": "utf-16"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[Expect]]:
    root = tmp_path_factory.mktemp("corpus")
    return root, write_all(root, big_file_mb=SMALL_MB)


def _text(root: Path, rel: str) -> str:
    return (root / rel).read_bytes().decode(ENCODING.get(rel, "utf-8"), errors="replace")


def _readable(expects: list[Expect]) -> list[str]:
    return [e.path for e in expects if e.path not in BINARY and e.path != "huge.txt"]


def test_all_expect_paths_exist(corpus):
    root, expects = corpus
    for e in expects:
        assert (root / e.path).is_file(), e.path


def test_no_unexpected_files(corpus):
    root, expects = corpus
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert on_disk == {e.path for e in expects}


def test_good_and_bad_paths_are_disjoint_and_unique(tmp_path):
    good = write_good_articles(tmp_path / "g")
    bad = write_bad_inputs(tmp_path / "b", big_file_mb=SMALL_MB)
    good_paths, bad_paths = [e.path for e in good], [e.path for e in bad]
    assert len(set(good_paths)) == len(good_paths)
    assert len(set(bad_paths)) == len(bad_paths)
    assert not set(good_paths) & set(bad_paths)


def test_expect_fields_are_consistent(corpus):
    _, expects = corpus
    for e in expects:
        if e.indexed == 0:
            assert e.reason and e.reason == e.reason.lower(), e
            assert not e.must_contain, e
        else:
            assert e.reason is None, e
            assert e.must_contain, e
    by_path = {e.path: e for e in expects}
    assert by_path["batch.jsonl"].indexed == 3
    assert by_path["nested/dir/deep.txt"].indexed == 1
    reasons = {e.path: e.reason for e in expects if e.indexed == 0}
    assert reasons == {
        "empty.txt": "empty", "blank.txt": "empty", "image.txt": "binary", ".DS_Store": "hidden",
        "huge.txt": "too large", "nav_only.html": "no article text", "notes.docx": "unsupported",
        "only_title.txt": "no article text",
    }


def test_must_contain_phrases_are_in_their_file_only(corpus):
    root, expects = corpus
    texts = {p: _text(root, p) for p in _readable(expects)}
    for e in expects:
        for phrase in e.must_contain:
            assert phrase in texts[e.path], (e.path, phrase)
            others = [p for p, t in texts.items() if p != e.path and phrase in t]
            assert not others, (phrase, others)


def test_must_not_contain_phrases_only_in_their_own_file(corpus):
    """So a test may check them against every indexed chunk, not only the file's own."""
    root, expects = corpus
    texts = {p: _text(root, p) for p in _readable(expects)}
    for e in expects:
        for phrase in e.must_not_contain:
            others = [p for p, t in texts.items() if p != e.path and phrase in t]
            assert not others, (phrase, others)


def test_antara_layout(corpus):
    root, _ = corpus
    lines = _text(root, "antara_style.txt").splitlines()
    assert lines[0].startswith("Makassar (ANTARA) - ")
    baca = next(i for i, line in enumerate(lines) if line.startswith("Baca juga: "))
    title = next(i for i, line in enumerate(lines) if line.startswith("Lamboraya targetkan"))
    assert baca < title
    tail = lines[title + 1:]
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4} \d\d:\d\d WITA", tail[0])
    assert tail[1].startswith("Foto:") and "ANTARA/" in tail[1]
    assert [line.split(":")[0] for line in tail[2:4]] == ["Pewarta", "Editor"]
    assert tail[4] == "Copyright © ANTARA 2023"
    assert tail[5].startswith("Tags: ")


def test_markdown_front_matter(corpus):
    root, _ = corpus
    text = _text(root, "kabar.md")
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    for key in ("title:", "date: 2023-03-05T10:00:00+07:00", "source:", "url:", "author:", "tags:"):
        assert key in front
    assert re.search(r"^# ", body, re.M) and re.search(r"^- ", body, re.M)
    assert re.search(r"\[[^\]]+\]\(https?://[^)]+\)", body)


def test_jsonl_lines(corpus):
    root, _ = corpus
    lines = _text(root, "batch.jsonl").splitlines()
    assert len(lines) == 5
    good = broken = empty = 0
    for line in lines:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            broken += 1
            continue
        assert {"id", "title", "date", "source", "url", "text"} <= rec.keys()
        if rec["text"].strip():
            good += 1
        else:
            empty += 1
    assert (good, broken, empty) == (3, 1, 1)


def test_html_page_structure(corpus):
    root, _ = corpus
    html = _text(root, "halaman.html")
    for tag in ("<nav", "<header", "<aside", "<footer", "<script", "<article", "<h1>", "<time datetime="):
        assert tag in html, tag
    article = html[html.index("<article"):html.index("</article>")]
    assert len(re.findall(r"<p>", article)) >= 5
    assert "Berita Terkait" in html and "cookie" in html


def test_english_layout(corpus):
    root, _ = corpus
    lines = _text(root, "english.txt").splitlines()
    assert lines[1] == "March 7, 2023" and lines[2] == ""


def test_empty_and_blank(corpus):
    root, _ = corpus
    assert (root / "empty.txt").stat().st_size == 0
    blank = (root / "blank.txt").read_bytes()
    assert blank and not blank.strip() and b"\t" in blank


def test_binary_files(corpus):
    root, _ = corpus
    png = (root / "image.txt").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"\x00" in png
    assert b"\x00" in (root / ".DS_Store").read_bytes()
    assert (root / "notes.docx").read_bytes().startswith(b"PK\x03\x04")


def test_cp1252_is_not_utf8(corpus):
    root, _ = corpus
    data = (root / "cp1252.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("cp1252")
    for ch in "“”é—":
        assert ch in text
    assert "café" in text


def test_utf16_has_bom(corpus):
    root, _ = corpus
    data = (root / "utf16.txt").read_bytes()
    assert data.startswith(codecs.BOM_UTF16_LE)
    assert "Tirtakencana" in data.decode("utf-16")


def test_invalid_utf8(corpus):
    root, _ = corpus
    data = (root / "invalid_utf8.txt").read_bytes()
    assert not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"\xc3\x28" in data and b"\xa0" in data
    assert data.decode("utf-8", errors="replace").count("\ufffd") <= 4


def test_huge_size(corpus):
    root, _ = corpus
    path = root / "huge.txt"
    assert path.stat().st_size == SMALL_MB * MB
    with path.open("rb") as f:
        assert f.read(100).startswith(b"Kalimat pengisi")


def test_huge_default_size(tmp_path):
    write_bad_inputs(tmp_path)
    assert (tmp_path / "huge.txt").stat().st_size == 50 * MB


def test_nav_only_has_no_long_paragraph(corpus):
    root, _ = corpus
    html = _text(root, "nav_only.html")
    assert "<nav" in html and "<footer" in html and "<article" not in html
    for para in re.findall(r"<p[^>]*>(.*?)</p>", html, re.S | re.I):
        assert len(re.sub(r"<[^>]+>", "", para).strip()) <= 80, para


def test_only_title_is_short(corpus):
    root, _ = corpus
    lines = _text(root, "only_title.txt").splitlines()
    assert len(lines) == 1 and len(lines[0].split()) < 5


def test_deterministic(tmp_path):
    write_all(tmp_path / "a", big_file_mb=SMALL_MB)
    write_all(tmp_path / "b", big_file_mb=SMALL_MB)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
