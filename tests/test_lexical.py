"""rag.lexical: the analyzer and the BM25 index, on small hand-made Indonesian text."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexMismatch, IndexNotFound
from rag.lexical import DEFAULT_ANALYZER, AnalyzerConfig, LexicalIndex, analyze

PLAIN = AnalyzerConfig(compounds="parts", stem=False, stopwords="none", english_stopwords=False,
                       question_words=False)

CORPUS = [
    "Pesawat Garuda GA-181 mendarat darurat di Bandar Udara Sultan Syarif Kasim II Pekanbaru.",
    "Pemerintah menaikkan harga bahan bakar minyak sebesar 2,5 persen mulai pukul 10.30 WIB.",
    "Kasus COVID-19 di Jakarta turun tajam pada tahun 2021 setelah vaksinasi massal.",
    "Pembangunan jalan tol Trans Sumatera dilanjutkan oleh pemerintah tahun 2017.",
    "Harimau Sumatera yang nama latinnya Panthera tigris sumatrensis terancam punah.",
    "Tim bulu tangkis Indonesia memenangi Piala Thomas setelah mengalahkan Tiongkok.",
    "Gunung Merapi di Yogyakarta kembali erupsi dan warga diungsikan ke tempat aman.",
    "Bank Indonesia mempertahankan suku bunga acuan di level 3,5 persen bulan ini.",
]
IDS = [f"doc-{i}" for i in range(len(CORPUS))]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(CORPUS, IDS)


# ---------------------------------------------------------------- analyzer


def test_analyzer_keeps_codes_numbers_and_names() -> None:
    terms = analyze("Kasus COVID-19 naik 2,5 persen sejak 2017, pesawat GA-181 tiba pukul 10.30, Rp 5.000")
    for term in ("covid-19", "covid", "19", "2,5", "2017", "ga-181", "ga", "181", "10.30", "rp", "5.000"):
        assert term in terms


def test_sentence_punctuation_does_not_glue_words() -> None:
    assert analyze("harga naik.Kemudian turun", PLAIN) == ["harga", "naik", "kemudian", "turun"]


def test_compound_modes() -> None:
    assert analyze("GA-181", replace(PLAIN, compounds="parts")) == ["ga", "181"]
    assert analyze("GA-181", replace(PLAIN, compounds="joined")) == ["ga-181"]
    assert analyze("GA-181", replace(PLAIN, compounds="both")) == ["ga-181", "ga", "181"]


def test_stemming_when_enabled() -> None:
    stemmed = replace(PLAIN, stem=True)
    assert analyze("pembangunan", stemmed) == analyze("dibangun", stemmed) == ["bangun"]
    assert analyze("pembangunan", PLAIN) != analyze("dibangun", PLAIN)
    assert analyze("COVID-19 2017", stemmed) == analyze("COVID-19 2017", PLAIN)  # numbers untouched


def test_stopwords_and_question_words_when_enabled() -> None:
    text = "Siapa yang membuka pameran di Padang dan what is the name"
    assert {"siapa", "yang", "di", "dan", "what", "is", "the"} <= set(analyze(text, PLAIN))
    terms = analyze(text, replace(PLAIN, stopwords="light", english_stopwords=True, question_words=True))
    assert terms == ["membuka", "pameran", "padang", "name"]


def test_acronyms_survive_stopword_lists() -> None:
    # AS = Amerika Serikat and WHO collide with English "as" and "who".
    config = DEFAULT_ANALYZER
    assert "as" in analyze("dolar AS", config) and "as" not in analyze("as big as", config)
    assert "who" in analyze("kata WHO", config) and "who" not in analyze("who is he", config)


def test_analyzer_never_crashes_on_odd_text() -> None:
    for text in ("", "   ", "!!!", "—", "\x00", "١٢٣", "---", "a-", "-19", "éàü", "_"):
        assert isinstance(analyze(text), list)


# ---------------------------------------------------------------- index


def test_exact_phrase_ranks_right_doc_first(index: LexicalIndex) -> None:
    expected = {
        "Panthera tigris sumatrensis": 4,
        "GA-181 mendarat darurat": 0,
        "kasus COVID-19 di Jakarta": 2,
        "suku bunga acuan 3,5 persen": 7,
        "Gunung Merapi erupsi": 6,
    }
    for query, doc in expected.items():
        results = index.search(query, k=3)
        assert results[0][0] == doc, (query, results)
        assert [s for _, s in results] == sorted((s for _, s in results), reverse=True)


def test_stemming_matches_other_word_forms(index: LexicalIndex) -> None:
    assert [d for d, _ in index.search("membangun", 5)] == [3]  # the doc says "Pembangunan"
    plain = LexicalIndex.build(CORPUS, IDS, PLAIN)
    assert plain.search("membangun", 5) == []


def test_question_words_do_not_decide(index: LexicalIndex) -> None:
    assert index.search("Berapa persen kenaikan harga bahan bakar?", 1)[0][0] == 1
    assert index.search("Apa nama latin harimau?", 1)[0][0] == 4


def test_allowed_mask_excludes_docs(index: LexicalIndex) -> None:
    allowed = np.ones(len(index), dtype=bool)
    allowed[4] = False
    results = index.search("harimau Sumatera Panthera", k=8, allowed=allowed)
    assert 4 not in [d for d, _ in results]
    assert 3 in [d for d, _ in results]  # "Sumatera" still matches the toll-road doc
    assert index.search("Panthera", 5, allowed=allowed) == []
    assert index.search("Panthera", 5, allowed=np.zeros(len(index), dtype=bool)) == []
    with pytest.raises(ValueError):
        index.search("Panthera", 5, allowed=np.ones(3, dtype=bool))


def test_unknown_or_empty_queries_return_nothing(index: LexicalIndex) -> None:
    assert index.search("", 5) == []
    assert index.search("   ?! ", 5) == []
    assert index.search("yang dan di", 5) == []  # only stopwords
    assert index.search("zzzqqq xyzzy", 5) == []
    assert index.search("Merapi", 0) == []


def test_k_limits_results_and_only_matching_docs_appear(index: LexicalIndex) -> None:
    results = index.search("persen tahun pemerintah", k=2)
    assert len(results) == 2
    assert {d for d, _ in index.search("persen", k=10)} == {1, 7}


def test_ids_and_len(index: LexicalIndex) -> None:
    assert len(index) == len(CORPUS) and index.ids == IDS


def test_empty_docs_and_empty_corpus(tmp_path: Path) -> None:
    index = LexicalIndex.build(["", "Harga beras naik", "   ", "yang dan"], ["a", "b", "c", "d"])
    assert [d for d, _ in index.search("beras", 5)] == [1]
    for texts in ([], ["", "yang"]):
        empty = LexicalIndex.build(texts, [str(i) for i in range(len(texts))])
        assert empty.search("beras", 5) == []
        empty.save(tmp_path / f"empty{len(texts)}")
        assert LexicalIndex.load(tmp_path / f"empty{len(texts)}").search("beras", 5) == []
    with pytest.raises(ValueError):
        LexicalIndex.build(["a"], [])


def test_save_load_round_trip(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert isinstance(loaded.data, np.memmap)  # loading maps the arrays instead of reading them
    assert loaded.ids == index.ids and len(loaded) == len(index)
    assert loaded.analyzer_config == index.analyzer_config and (loaded.k1, loaded.b) == (index.k1, index.b)
    mask = np.arange(len(index)) % 2 == 0
    for query in ("Panthera tigris", "persen tahun pemerintah", "COVID-19", "pembangunan", "", "GA - 181"):
        assert loaded.search(query, 5) == index.search(query, 5)
        assert loaded.search(query, 5, mask) == index.search(query, 5, mask)


def test_load_detects_mismatch_and_missing(index: LexicalIndex, tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound):
        LexicalIndex.load(tmp_path / "nothing")
    folder = tmp_path / "lex"
    index.save(folder)
    with pytest.raises(IndexMismatch):
        LexicalIndex.load(folder, analyzer_config=replace(DEFAULT_ANALYZER, stem=not DEFAULT_ANALYZER.stem))
    assert LexicalIndex.load(folder, analyzer_config=DEFAULT_ANALYZER).ids == IDS
    meta = json.loads((folder / "lexical.json").read_text())
    meta["version"] += 1
    (folder / "lexical.json").write_text(json.dumps(meta))
    with pytest.raises(IndexMismatch):
        LexicalIndex.load(folder)
