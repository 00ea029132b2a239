from __future__ import annotations

from rag.articles import read_sources
from rag.duplicates import duplicate_groups
from tests.conftest import SEED


def test_republished_story_is_grouped_and_other_stories_are_not() -> None:
    (seed,) = read_sources([SEED]).articles
    republished = seed.text.replace("Jakarta (ANTARA) - ", "JAKARTA, KOMPAS - ").replace("ucapnya", "kata Anies")
    other = "Harga cabai rawit di pasar tradisional Kota Bandung naik dua kali lipat menjelang Lebaran. " * 3
    same_topic = ("Gubernur DKI Jakarta Anies Baswedan bertemu Gubernur Tokyo Yuriko Koike. Keduanya membahas "
                  "transportasi publik, kota tahan bencana, dan forum Urban 20 di Jakarta bulan ini.")
    groups = duplicate_groups({"b-antara": seed.text, "a-kompas": republished, "c-cabai": other, "d-topic": same_topic})
    assert groups == {"a-kompas": "a-kompas", "b-antara": "a-kompas"}


def test_no_duplicates_in_distinct_texts() -> None:
    assert duplicate_groups({"x": "satu dua tiga empat lima enam", "y": "tujuh delapan sembilan sepuluh sebelas"}) == {}
    assert duplicate_groups({}) == {}
