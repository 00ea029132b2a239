"""rag.slots and rag.quotes on real articles: the number tied to the asked noun, the time tied to the asked
event, relative dates resolved against the article's date, quotes without the dateline.
The seed article (ANTARA) always; IndoSum articles when ../shared/data is there."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

import pytest

from evals.indosum_qa import default_articles, load_unanswerable
from rag.articles import Article, read_path
from rag.chunks import sentence_spans
from rag.quotes import dateline_end, resolve_dates, without_dateline
from rag.slots import AskedSlot, SlotCandidate, asked_slot, match_slot
from tests.conftest import SEED

ARTICLES = default_articles()
needs_indosum = pytest.mark.skipif(not ARTICLES.is_file(),
                                   reason=f"IndoSum articles not found at {ARTICLES} (../shared/data)")


@lru_cache(maxsize=1)
def _indosum() -> dict[str, dict]:
    with ARTICLES.open(encoding="utf-8") as handle:
        return {r["id"]: r for r in map(json.loads, handle)}


def indosum(article_id: str) -> tuple[str, datetime]:
    record = _indosum()[article_id]
    return record["text"], datetime.fromisoformat(record["date"].replace("Z", "+00:00"))


def seed() -> Article:
    return read_path(SEED, Path(SEED.name), 10.0, [])[0]


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def best(question: str, text: str) -> tuple[str, SlotCandidate]:
    """The article's sentence with the highest slot_match (first on ties) and its candidate."""
    slot = asked_slot(question)
    assert slot is not None
    scored = [(match_slot(slot, s), s) for s in sentences(text)]
    match, sentence = max(scored, key=lambda pair: pair[0].slot_match)
    assert match.candidate is not None
    return sentence, match.candidate


# ---------------------------------------------------------------- the asked slot

@pytest.mark.parametrize("question, kind, nouns, measure", [
    ("Berapa orang yang mengungsi akibat banjir Bojonegoro?", "count", {"orang"}, "people"),
    ("How many people fled the floods?", "count", {"orang"}, "people"),
    ("Berapa harga tiket kelas VIP untuk konser Taeyang di Jakarta?", "count", {"harga"}, "money"),
    ("Dalam usia berapa rocker Tom Petty meninggal dunia?", "count", {"usia"}, "age"),
    ("Berapa unit kendaraan yang dijual Mercedes-Benz?", "count", {"unit", "kendara"}, None),
    ("korban ada berapa?", "count", {"korban"}, "people"),
    ("Kapan kereta cepat mulai beroperasi komersial?", "time", set(), None),
    ("Which comedian did Jamie Foxx honour when he chose his stage name?", None, None, None),
    ("Siapa pelatih Persib?", None, None, None),
])
def test_asked_slot_reads_the_kind_and_the_counted_noun(question: str, kind: str | None, nouns: set[str] | None,
                                                        measure: str | None) -> None:
    slot = asked_slot(question)
    if kind is None:
        assert slot is None
        return
    assert slot is not None and slot.kind == kind
    assert slot.nouns == frozenset(nouns or ()) and slot.measure == measure


def test_time_question_keeps_its_event_words_and_grain() -> None:
    slot = asked_slot("Kapan kereta cepat mulai beroperasi komersial?")
    assert slot is not None and {"operasi", "komersial", "kereta"} <= slot.event and "operasi" in slot.verbs
    clock = asked_slot("Pukul berapa gempa di laut selatan Kabupaten Sukabumi terjadi?")
    assert clock is not None and clock.kind == "time" and clock.grain == "clock"


def test_number_of_the_asked_noun_beats_a_number_of_another() -> None:
    slot = asked_slot("Berapa orang yang mengungsi akibat banjir Bojonegoro?")
    assert isinstance(slot, AskedSlot)
    sentence = "Banjir merendam 340 rumah, sementara 215 orang mengungsi ke balai desa."
    match = match_slot(slot, sentence)
    assert match.candidate is not None and match.candidate.text == "215 orang"
    assert sentence[match.candidate.start:match.candidate.end] == "215 orang"
    houses = next(c for c in match.candidates if c.text == "340 rumah")
    assert houses.score < 0.2 < match.slot_match


def test_a_sentence_without_a_candidate_scores_zero() -> None:
    slot = asked_slot("Berapa orang yang mengungsi?")
    assert slot is not None
    match = match_slot(slot, "Warga mengungsi ke balai desa.")
    assert match.slot_match == 0.0 and match.candidate is None and match.candidates == ()


# ---------------------------------------------------------------- on IndoSum articles

POSO = "indosum-1496442000-poso-tanggap-darurat-7-hari-pascagempa"
SEKJEN = "indosum-1495667700-lima-nama-tersisa-untuk-sekjen-pssi"
PUNCAK = "indosum-1514771100-polres-bogor-siapkan-bus-penghubung-jalur-puncak"
PROLIGA = "indosum-1510280041-ini-daftar-tim-yang-ikuti-proliga-2018"
KERETA = "indosum-1514289293-pt-kai-belum-putuskan-tarif-reguler-kereta-bandara"
WILLIAM = "indosum-1474876851-bawa-serta-dua-anaknya-pangeran-william-kate-kunju"


@needs_indosum
@pytest.mark.parametrize("question, answer", [
    # The article counts buildings (348 bangunan), houses (168 rumah), KK and people.
    ("Berapa orang luka berat akibat gempa Poso?", "4 orang"),
    ("Berapa orang luka ringan akibat gempa Poso?", "21 orang"),
    ("Berapa rumah rusak berat akibat gempa Poso?", "168 rumah"),
    ("Berapa gereja rusak ringan akibat gempa Poso?", "5 gereja"),
    ("Berapa bangunan yang rusak akibat gempa Poso?", "348 bangunan"),
])
def test_indosum_number_tied_to_the_asked_noun(question: str, answer: str) -> None:
    text, _ = indosum(POSO)
    sentence, candidate = best(question, text)
    assert candidate.text == answer, (sentence, candidate)
    assert sentence[candidate.start:candidate.end] == answer


@needs_indosum
@pytest.mark.parametrize("article, question, answer", [
    # Two times, two events in one sentence: each question gets its own event's time.
    (SEKJEN, "Kapan tes kesehatan calon sekjen PSSI digelar?", "Selasa (23/5)"),
    (SEKJEN, "Kapan psikotes calon sekjen PSSI digelar?", "Senin (22/5)"),
    (PUNCAK, "Kapan jalur Puncak dibuka kembali?", "pukul 06.00 WIB pada 1 Januari 2018"),
    (PUNCAK, "Kapan jalur Puncak ditutup untuk kendaraan roda empat?", "pukul 18.00 WIB pada 31 Desember 2017"),
    (PROLIGA, "Kapan Proliga 2018 ditutup?", "15 April 2018"),
    (PROLIGA, "Kapan Proliga 2018 dimulai?", "19 - 21 Januari 2018"),
    # Across sentences: the opening (trial) date, not the inauguration or the end of the trial.
    (KERETA, "Kapan kereta bandara Soetta diresmikan Presiden Joko Widodo?", "2 Januari 2018"),
    (KERETA, "Mulai kapan kereta bandara Soetta diuji coba secara komersial?", "Selasa, 26 Desember 2017"),
])
def test_indosum_time_tied_to_the_asked_event(article: str, question: str, answer: str) -> None:
    text, _ = indosum(article)
    sentence, candidate = best(question, text)
    assert candidate.text == answer, (sentence, candidate)


@needs_indosum
def test_indosum_unanswerable_count_finds_no_number_of_its_noun() -> None:
    """iqu-0002 asks for the attendance; the match report counts matches and goals only."""
    item = next(q for q in load_unanswerable() if q.id == "iqu-0002")
    slot = asked_slot(item.question)
    assert slot is not None and slot.kind == "count"
    text, _ = indosum(item.topic_article_ids[0])
    assert max(match_slot(slot, s).slot_match for s in sentences(text)) < 0.3
    answerable = asked_slot("Berapa laga rekor tak terkalahkan Manchester United sebelum dihentikan Arsenal?")
    assert answerable is not None
    assert max(match_slot(answerable, s).slot_match for s in sentences(text)) > 0.5


# ---------------------------------------------------------------- relative dates

def test_seed_saturday_resolves_to_the_publication_day() -> None:
    article = seed()
    assert article.published is not None
    sentence = next(s for s in sentences(article.text) if s.endswith("di Jakarta, Sabtu."))
    notes = resolve_dates(sentence, article.published)
    assert [(n.phrase, n.resolved, n.day) for n in notes] == [("Sabtu", "Sabtu (13 Agustus 2022)", date(2022, 8, 13))]
    assert sentence[notes[0].start:notes[0].end] == "Sabtu"
    english = resolve_dates("He said so on Saturday.", article.published)
    assert [n.resolved for n in english] == ["Saturday (13 August 2022)"]


def test_follow_up_when_question_asks_a_time_of_anything() -> None:
    slot = asked_slot("Kapan itu terjadi?")
    assert slot is not None and slot.kind == "time"
    sentence = next(s for s in sentences(seed().text) if s.endswith("di Jakarta, Sabtu."))
    match = match_slot(slot, sentence)
    assert match.candidate is not None and match.candidate.text == "Sabtu"


@pytest.mark.parametrize("sentence, resolved", [
    ("Ia tiba kemarin.", ["kemarin (12 Agustus 2022)"]),
    ("Rapat digelar hari ini.", ["hari ini (13 Agustus 2022)"]),
    ("Ia akan kembali ke Jakarta Senin.", ["Senin (15 Agustus 2022)"]),
    ("Sidang dilanjutkan Kamis lalu.", ["Kamis lalu (11 Agustus 2022)"]),
    ("Forum digelar pekan depan.", ["pekan depan (15 Agustus 2022 s.d. 21 Agustus 2022)"]),
    ("Kunjungan itu Sabtu (13/8) malam.", ["Sabtu (13 Agustus 2022)"]),
    ("Anggaran tahun lalu naik.", ["tahun lalu (2021)"]),
    ("It happened yesterday, last week.", ["yesterday (12 August 2022)", "last week (1 August 2022 to 7 August 2022)"]),
    ("Dua minggu kemudian ia pulang.", []),
])
def test_relative_words_resolve_against_the_article_date(sentence: str, resolved: list[str]) -> None:
    published = datetime(2022, 8, 13, 6, 56, tzinfo=timezone.utc)  # Saturday 13:56 WIB
    assert [n.resolved for n in resolve_dates(sentence, published)] == resolved


@needs_indosum
def test_indosum_weekdays_resolve_in_the_articles_calendar() -> None:
    text, published = indosum(KERETA)  # 2017-12-26 (Tuesday)
    sentence = next(s for s in sentences(text) if "Senin (25/12)" in s)
    assert [n.resolved for n in resolve_dates(sentence, published)] == ["Senin (25 Desember 2017)"]
    text, published = indosum(WILLIAM)  # Monday 26 September 2016
    sentence = sentences(text)[0]
    notes = resolve_dates(sentence, published)
    assert notes and notes[0].resolved == "Sabtu (24 September 2016)"
    assert sentence[notes[0].start:notes[0].end] == "Sabtu"


# ---------------------------------------------------------------- datelines

@pytest.mark.parametrize("sentence, rest", [
    ("Jakarta (ANTARA) - Gubernur DKI Jakarta Anies Baswedan", "Gubernur DKI Jakarta Anies Baswedan"),
    ("JAKARTA, KOMPAS.com - Polisi menangkap", "Polisi menangkap"),
    ("Bandung (ANTARA News) -Wali Kota Bandung", "Wali Kota Bandung"),
    ("Liputan6.com, Jakarta: Presiden Joko Widodo", "Presiden Joko Widodo"),
    ("JUARA.NET, KUALA LUMPUR - Tim Indonesia", "Tim Indonesia"),
    ("JAKARTA (Pos Kota) - Polisi", "Polisi"),
    ("Merdeka.com - Presiden", "Presiden"),
    ("Presiden Joko Widodo - yang baru tiba - berkata", "Presiden Joko Widodo - yang baru tiba - berkata"),
    ("Gubernur Anies Baswedan mengunjungi Jepang.", "Gubernur Anies Baswedan mengunjungi Jepang."),
])
def test_dateline_end(sentence: str, rest: str) -> None:
    assert sentence[dateline_end(sentence):] == rest


def test_seed_quote_starts_after_the_dateline_verbatim() -> None:
    text = seed().text
    start, end = sentence_spans(text)[0]
    quote_start, quote_end = without_dateline(text, start, end)
    assert text[quote_start:quote_end].startswith("Gubernur DKI Jakarta Anies Baswedan mengunjungi Jepang")
    assert quote_end == end and text[start:quote_start] == "Jakarta (ANTARA) - "


@needs_indosum
@pytest.mark.parametrize("article, dateline", [
    (POSO, "Jakarta, CNN Indonesia - - "),
    (WILLIAM, "Toronto (ANTARA News) - "),
    (PUNCAK, "Suara.com - "),
    (PROLIGA, "BOLASPORT.COM - "),
])
def test_indosum_datelines(article: str, dateline: str) -> None:
    text, _ = indosum(article)
    start, end = sentence_spans(text)[0]
    cut, _ = without_dateline(text, start, end)
    assert text[start:cut] == dateline
