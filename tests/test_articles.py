from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from rag.articles import parse_text, read_sources
from rag.files import decode
from rag.errors import BadArticle
from tests.conftest import SEED
from tests.corpus import write_all

WIB = timezone(timedelta(hours=7))


def test_seed_metadata_exactly() -> None:
    result = read_sources([SEED])
    assert result.skipped == []
    (article,) = result.articles
    assert article.title == "Anies kunjungi Jepang bahas kerja sama transportasi publik"
    assert article.published == datetime(2022, 8, 13, 13, 56, tzinfo=WIB)
    assert article.published.isoformat() == "2022-08-13T13:56:00+07:00"
    assert article.source == "ANTARA"
    assert article.author == "Dewa Ketut Sudiarta Wiguna"
    assert article.editor == "Sri Muryono"
    assert article.language == "id"
    assert "Baca juga" not in article.text
    assert "Copyright" not in article.text and "Pewarta" not in article.text and "Tangkapan layar" not in article.text
    assert article.text.startswith("Jakarta (ANTARA) - Gubernur DKI Jakarta Anies Baswedan")
    assert article.text.endswith("jadi makin intensif,\" ucapnya.")
    # The scraper broke a quote before its last word; it is joined back.
    assert '" kata Anies.' in article.text


def test_article_id_is_stable_and_path_free_hash(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    text = SEED.read_text()
    (tmp_path / "a" / "x.txt").write_text(text)
    (tmp_path / "b" / "y.txt").write_text(text)
    first, second = read_sources([tmp_path]).articles
    assert first.id != second.id
    assert first.content_hash == second.content_hash
    assert read_sources([tmp_path]).articles[0].id == first.id


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("corpus")
    expectations = write_all(root, big_file_mb=11)
    return root, expectations, read_sources([root], max_file_mb=10)


def _file_of(article_path: str, root: Path) -> str:
    return str(Path(article_path.split(":")[0]).relative_to(root))


def test_every_input_is_indexed_or_skipped_as_expected(corpus) -> None:
    root, expectations, result = corpus
    texts: dict[str, list[str]] = {}
    for article in result.articles:
        texts.setdefault(_file_of(article.path, root), []).append(article.text)
    all_text = "\n".join(t for ts in texts.values() for t in ts)
    skipped = {_file_of(s.path, root): s.reason for s in result.skipped}
    for expect in expectations:
        got = texts.get(expect.path, [])
        assert len(got) == expect.indexed, (expect.path, skipped.get(expect.path))
        if expect.indexed == 0:
            assert expect.reason in skipped[expect.path], (expect.path, skipped[expect.path])
        for phrase in expect.must_contain:
            assert any(phrase in t for t in got), (expect.path, phrase)
        for phrase in expect.must_not_contain:
            assert phrase not in all_text, (expect.path, phrase)


def test_bad_jsonl_lines_are_reported_with_line_numbers(corpus) -> None:
    root, _, result = corpus
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in result.skipped}
    assert "invalid JSON" in reasons["batch.jsonl:2"]
    assert "no article text" in reasons["batch.jsonl:4"]


def test_formats_fill_metadata(corpus) -> None:
    root, _, result = corpus
    by_file = {_file_of(a.path, root): a for a in result.articles}
    antara = by_file["antara_style.txt"]
    assert antara.published == datetime(2023, 3, 2, 9, 15, tzinfo=timezone(timedelta(hours=8)))  # WITA
    assert antara.source == "ANTARA" and antara.author and antara.editor and antara.tags
    md = by_file["kabar.md"]
    assert md.published == datetime(2023, 3, 5, 10, 0, tzinfo=WIB)
    assert md.url and md.author == "Dewi Lestari" and md.tags and md.source
    assert "#" not in md.text and "](" not in md.text
    html = by_file["halaman.html"]
    assert html.title.startswith("Pelabuhan Penyeberangan Telukmaya")
    assert html.published is not None
    english = by_file["english.txt"]
    assert english.language == "en" and english.published is not None


def test_jsonl_in_indosum_format(tmp_path: Path) -> None:
    record = {"id": "indosum-1", "title": "Judul berita", "date": "2017-03-28T04:15:36Z", "source": "kumparan",
              "url": "https://example.com/x", "category": "tajuk utama",
              "text": "Ketua MPR menyesalkan kisruh antara pelaku transportasi online dan tradisional.\nIa meminta pemerintah turun tangan."}
    (tmp_path / "a.jsonl").write_text(json.dumps(record) + "\n")
    (article,) = read_sources([tmp_path]).articles
    assert article.id == "indosum-1" and article.source == "kumparan" and article.url == "https://example.com/x"
    assert article.published == datetime(2017, 3, 28, 4, 15, 36, tzinfo=timezone.utc)


def test_decode_handles_encodings() -> None:
    assert decode("Kafe café “kopi”".encode("cp1252")) == "Kafe café “kopi”"
    assert decode("Berita hari ini".encode("utf-16")) == "Berita hari ini"
    # Valid multi-byte sequences mark the file as UTF-8; the broken bytes are dropped.
    assert decode("Harga ikan — ".encode() + b"\xc3\x28turun di caf\xc3\xa9") == "Harga ikan — (turun di café"
    with pytest.raises(BadArticle, match="empty"):
        decode(b" \n\t ")
    with pytest.raises(BadArticle, match="binary"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00")


def test_title_first_layout() -> None:
    text = "Banjir rendam Kampung Melayu\nSenin, 2 Januari 2023 08:00 WIB\n\nBanjir setinggi satu meter merendam ratusan rumah warga di Kampung Melayu sejak Minggu malam."
    article = parse_text(text, default_id="x")
    assert article.title == "Banjir rendam Kampung Melayu"
    assert article.published == datetime(2023, 1, 2, 8, 0, tzinfo=WIB)
    assert article.text.startswith("Banjir setinggi")


BOJONEGORO = """Banjir rendam ratusan rumah di Bojonegoro
5 Agustus 2022 10:00 WIB

Bojonegoro (ANTARA) - Banjir setinggi dua meter merendam ratusan rumah warga di Bojonegoro, Jawa Timur.
Warga mengungsi ke masjid terdekat dan petugas BPBD membagikan makanan.
Copyright © ANTARA 2022
"""


def test_title_first_layout_takes_the_outlet_from_the_dateline() -> None:
    article = parse_text(BOJONEGORO, default_id="x")
    assert article.title == "Banjir rendam ratusan rumah di Bojonegoro"
    assert article.source == "ANTARA"
    assert article.text.startswith("Bojonegoro (ANTARA) - Banjir") and "Copyright" not in article.text


def test_title_first_layout_takes_the_outlet_from_the_copyright_line() -> None:
    text = BOJONEGORO.replace("Bojonegoro (ANTARA) - ", "").replace("ANTARA 2022", "Tempo 2022")
    assert parse_text(text, default_id="x").source == "Tempo"
    assert parse_text(text.replace("Copyright © Tempo 2022\n", ""), default_id="x").source is None


def test_a_bad_jsonl_line_costs_only_itself(tmp_path: Path) -> None:
    good = {"title": "Jalan desa diperbaiki", "text": "Warga desa bergotong royong memperbaiki jalan yang rusak "
            "karena banjir pekan lalu di kampung mereka."}
    lines = [json.dumps(good), "[" * 5000 + "]" * 5000, json.dumps({**good, "title": 7}), json.dumps({**good, "tags": [1]}),
             json.dumps({**good, "id": 12, "tags": ["desa", "banjir"]})]
    (tmp_path / "a.jsonl").write_text("\n".join(lines))
    result = read_sources([tmp_path])
    assert [a.id for a in result.articles] == ["a-1", "12"] and result.articles[1].tags == ("desa", "banjir")
    reasons = {s.path.rsplit(":", 1)[-1]: s.reason for s in result.skipped}
    assert reasons == {"2": "JSON nested deeper than 64 levels", "3": "field 'title' must be text, not a number",
                       "4": "field 'tags' must be text or a list of texts"}


def test_a_named_pipe_given_as_source_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.txt")
    result = read_sources([tmp_path / "pipe.txt"])
    assert result.articles == [] and "named pipe" in result.skipped[0].reason


def test_a_file_name_that_is_not_utf8_is_escaped(tmp_path: Path) -> None:
    import os

    (tmp_path / os.fsdecode(b"kabar-\xff\x1b[31m.txt")).write_text(SEED.read_text())
    (article,) = read_sources([tmp_path]).articles
    assert article.path.endswith("kabar-\\xff\\x1b[31m.txt")
    json.dumps(article.path, ensure_ascii=False).encode("utf-8")
