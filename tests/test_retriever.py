from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda

from rag import get_retriever
from rag.errors import ConfigError
from rag.embeddings.hashing import HashingEmbedder
from rag.indexer import build_index
from rag.store import ServerIndex
from rag.settings import Settings
from rag.store import open_index
from tests.conftest import SEED, STORE_MODES, in_mode

FLOOD = "Banjir setinggi {h} meter merendam ratusan rumah warga di {place}. Warga mengungsi ke masjid terdekat. " \
        "Petugas BPBD membagikan makanan dan selimut kepada pengungsi banjir."
TRANSPORT = ("Ketua MPR Zulkifli Hasan menyesalkan kisruh antara pelaku transportasi online dan tradisional. "
             "Ia meminta pemerintah mempertemukan kedua pihak. ") * 12


def _record(id_: str, source: str, date: str, text: str, author: str | None = None, title: str | None = None) -> dict:
    return {"id": id_, "title": title or text.split(".")[0][:60], "date": date, "source": source,
            "url": f"https://example.com/{id_}", "author": author, "text": text}


@pytest.fixture(scope="module", params=STORE_MODES)
def index_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path | ServerIndex:
    """The test index, built in the embedded store and on a Chroma server."""
    root = tmp_path_factory.mktemp("retriever")
    articles = root / "articles"
    articles.mkdir()
    (articles / SEED.name).write_text(SEED.read_text())
    seed_text = SEED.read_text().split("\nAnies kunjungi Jepang")[0]
    records = [
        _record("kompas-anies", "Kompas", "2022-08-13T15:00:00+07:00",
                seed_text.replace("Jakarta (ANTARA) - ", "JAKARTA, KOMPAS - "), author="Redaksi Kompas",
                title="Anies kunjungi Jepang bahas kerja sama transportasi publik"),
        _record("kumparan-mpr", "kumparan", "2017-03-28T04:15:36Z", TRANSPORT, author="Ananda Wardhiati"),
        _record("detik-banjir", "detik", "2022-08-12T09:00:00+07:00", FLOOD.format(h="satu", place="Kampung Melayu"),
                author="Rina Kurniawati"),
        _record("antara-banjir", "ANTARA", "2022-08-05T10:00:00+07:00", FLOOD.format(h="dua", place="Bojonegoro"),
                author="Dewa Ketut Sudiarta Wiguna"),
        _record("reuters-flood", "Reuters", "2022-07-20T08:00:00+07:00",
                "Flood waters one metre deep swamped hundreds of homes in Manila. Residents fled to schools. "
                "Rescue teams handed out food and blankets to flood evacuees.", author="John Smith"),
    ]
    (articles / "more.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    settings = in_mode(Settings(index_dir=root / "index", sources=(articles,), embedding_model="hash:128",
                                chunk_tokens=48, chunk_overlap_tokens=8), request.param, request)
    build_index(settings, embedder=HashingEmbedder(128), progress=False)
    return root / "index" if request.param == "embedded" else open_index(settings)


def ids(docs) -> list[str]:
    return [d.metadata["article_id"] for d in docs]


def test_is_a_langchain_retriever_with_full_metadata(index_dir: Path) -> None:
    retriever = get_retriever(index_dir, k=3)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("banjir merendam rumah warga")
    assert len(docs) == 3 and set(ids(docs)[:2]) == {"detik-banjir", "antara-banjir"}
    meta = docs[0].metadata
    assert set(meta) >= {"article_id", "title", "source", "published", "url", "author", "chunk_index", "start", "end", "score"}
    assert meta["published"].startswith("2022-08-") and meta["url"].startswith("https://example.com/")
    assert meta["end"] - meta["start"] == len(docs[0].page_content)
    chain = retriever | RunnableLambda(ids)
    assert chain.invoke("banjir merendam rumah warga") == ids(docs)


def test_one_hit_per_article(index_dir: Path) -> None:
    docs = get_retriever(index_dir, k=5).invoke("Zulkifli Hasan transportasi online tradisional")
    assert ids(docs)[0] == "kumparan-mpr"
    assert len(ids(docs)) == len(set(ids(docs)))


def test_republished_wire_story_is_one_hit_listing_every_outlet(index_dir: Path) -> None:
    docs = get_retriever(index_dir, k=5).invoke("Anies Gubernur Tokyo Yuriko Koike")
    anies = [d for d in docs if "Anies" in d.metadata["title"]]
    assert len(anies) == 1
    assert sorted(anies[0].metadata["outlets"]) == ["ANTARA", "Kompas"]
    assert len(anies[0].metadata["duplicates"]) == 1


@pytest.mark.parametrize("filters,expected", [
    ({"source": "antara"}, {"antara-banjir", "antara-2022-08-13-anies-kunjungi-jepang"}),
    ({"since": "2022-08-10"}, {"detik-banjir", "antara-2022-08-13-anies-kunjungi-jepang"}),
    ({"until": "2022-08-01"}, {"reuters-flood", "kumparan-mpr"}),
    ({"since": "2022-08-01", "until": "2022-08-10"}, {"antara-banjir"}),
    ({"author": "wiguna"}, {"antara-banjir", "antara-2022-08-13-anies-kunjungi-jepang"}),
    ({"source": "ANTARA", "since": "2022-08-10"}, {"antara-2022-08-13-anies-kunjungi-jepang"}),
])
def test_filters_restrict_and_combine(index_dir: Path, filters: dict, expected: set[str]) -> None:
    docs = get_retriever(index_dir, k=10, **filters).invoke("banjir warga Anies transportasi flood")
    assert set(ids(docs)) == expected


def test_k_filters_and_as_of_given_at_invoke_time(index_dir: Path) -> None:
    retriever = get_retriever(index_dir, k=5, source="antara")
    query = "banjir warga Anies transportasi flood"
    assert len(retriever.invoke(query, k=1)) == 1
    assert set(ids(retriever.invoke(query))) == {"antara-banjir", "antara-2022-08-13-anies-kunjungi-jepang"}
    assert set(ids(retriever.invoke(query, source="detik", k=10))) == {"detik-banjir"}, "replaces the outlet"
    assert ids(retriever.invoke(query, until="2022-08-05", k=10)) == ["antara-banjir"], "the outlet stays"
    dated = get_retriever(index_dir, k=1)
    assert ids(dated.invoke("banjir kemarin", as_of="2022-08-13T18:00:00+07:00")) == ["detik-banjir"]
    assert ids(dated.invoke("banjir pekan lalu", as_of=datetime(2022, 8, 13, 18, tzinfo=timezone(timedelta(hours=7))))) \
        == ["antara-banjir"]
    assert len(retriever.invoke(query)) == 2, "a call's k and filters do not stick"
    for bad in (0, -1, "3"):
        with pytest.raises(ConfigError, match="whole number"):
            retriever.invoke(query, k=bad)


SEED_ID = "antara-2022-08-13-anies-kunjungi-jepang"  # published 13 August 2022 13:56 WIB


@pytest.mark.parametrize("until,included", [
    ("2022-08-13", True), ("13 Agustus 2022", True), (date(2022, 8, 13), True),  # a day includes itself
    ("2022-08-12", False), (date(2022, 8, 12), False),
    ("2022-08-13 14:00", True), ("2022-08-13 13:00", False),  # with a time: that moment
    (datetime(2022, 8, 13, 13, 0, tzinfo=timezone(timedelta(hours=7))), False),
])
def test_until_includes_the_day_of_a_date_without_a_time(index_dir: Path, until, included: bool) -> None:
    docs = get_retriever(index_dir, k=10, until=until).invoke("Anies Gubernur Tokyo Yuriko Koike")
    assert (SEED_ID in ids(docs)) is included


@pytest.mark.parametrize("query,expected", [
    ("banjir kemarin", {"detik-banjir"}),
    ("banjir pekan lalu", {"antara-banjir"}),
    ("banjir Agustus 2022", {"detik-banjir", "antara-banjir"}),
    ("flood last month", {"reuters-flood"}),
    ("transportasi online pada tahun 2017", {"kumparan-mpr"}),
])
def test_time_in_the_query_narrows_the_dates(index_dir: Path, query: str, expected: set[str]) -> None:
    # As of Saturday 13 August 2022: yesterday is the 12th, last week is 1-7 August.
    docs = get_retriever(index_dir, k=len(expected), as_of="2022-08-13T18:00:00+07:00").invoke(query)
    assert set(ids(docs)) == expected


def test_time_without_matches_falls_back_to_all_dates(index_dir: Path) -> None:
    docs = get_retriever(index_dir, k=3, as_of="2022-08-13T18:00:00+07:00").invoke("transportasi online kemarin")
    assert ids(docs)[0] == "kumparan-mpr"


def test_neighbouring_context_of_a_hit(index_dir: Path) -> None:
    from rag.search import Searcher

    searcher = Searcher.open(index_dir, embedder=HashingEmbedder(128))
    try:
        hit = searcher.search("Zulkifli Hasan transportasi online", k=1)[0]
        start, end, text = searcher.context(hit.article_id, hit.chunk_index, radius=1)
    finally:
        searcher.close()
    assert start <= hit.start and hit.end <= end
    assert hit.text in text and len(text) > len(hit.text)


class QueryCounting(HashingEmbedder):
    """The hash embedder, counting the queries it embeds."""

    def __init__(self, dimension: int) -> None:
        super().__init__(dimension)
        self.queries: list[str] = []

    def encode_queries(self, texts):  # type: ignore[override]
        self.queries.extend(texts)
        return self.encode_passages(texts)


def test_retrieve_keeps_the_query_vector_and_each_hits_context(index_dir: Path) -> None:
    from rag.search import Searcher

    embedder = QueryCounting(128)
    searcher = Searcher.open(index_dir, embedder=embedder)
    try:
        query = "Zulkifli Hasan transportasi online"
        found = searcher.retrieve(query, k=3, context_radius=1)
        assert embedder.queries == [query]
        assert [h.to_json() for h in found.hits] == [h.to_json() for h in searcher.search(query, k=3)]
        assert found.vector is not None and (found.vector == embedder.encode_passages([query])[0]).all()
        assert found.hits and found.contexts == {(h.article_id, h.chunk_index): searcher.context(h.article_id, h.chunk_index)
                                                 for h in found.hits}
    finally:
        searcher.close()


@pytest.mark.parametrize("question, embedded", [
    ("Apa kata Zulkifli Hasan tentang transportasi online?", 1),
    # A relative time: the question without it is searched in the period too.
    ("Apa kata Zulkifli Hasan tentang transportasi online kemarin?", 2),
])
def test_an_answer_embeds_the_question_once(index_dir: Path, question: str, embedded: int) -> None:
    from rag.answer import Assistant
    from rag.search import Searcher

    embedder = QueryCounting(128)
    searcher = Searcher.open(index_dir, embedder=embedder)
    try:
        answer = Assistant(searcher).ask(question, as_of=datetime(2017, 3, 29, tzinfo=timezone.utc))
    finally:
        searcher.close()
    assert answer.citations
    assert len(embedder.queries) == embedded and embedder.queries[0] == question


@pytest.mark.parametrize("text, language", [
    ("Who did Anies meet in Tokyo?", "en"),
    ("Siapa yang ditemui Anies di Tokyo?", "id"),
    # English names in Indonesian news make it mixed, not English (IndoSum summaries).
    ("Voli menawan Edin Dzeko saat menghadapi Chelsea dinobatkan sebagai pemenang Goal of the Week.", None),
    ("Republic of Gamers (ROG) Zephyrus GX501 ialah salah satu perangkat yang dihadirkan Asus.", None),
    ("Anies Baswedan Tokyo", None),
])
def test_plain_language_of_a_query(text: str, language: str | None) -> None:
    from rag.language import plain_language

    assert plain_language(text) == language


def test_a_question_in_another_language_than_the_articles_takes_the_cross_lingual_weight(
        index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import search
    from rag.search import Searcher

    # Tuned for e5 only (English questions on Indonesian passages: dense alone wins); the
    # hash embedder gets the same table entry here to see the switch.
    monkeypatch.setitem(search.CROSS_LINGUAL_ALPHA_BY_EMBEDDER, "hash:128", 0.0)
    searcher = Searcher.open(index_dir, embedder=HashingEmbedder(128))
    try:
        assert searcher.language == "id" and searcher.alpha > 0 and searcher.cross_lingual_alpha == 0.0
        english = searcher.search("What did Zulkifli Hasan say about online transport?", k=3)
        indonesian = searcher.search("Apa kata Zulkifli Hasan tentang transportasi online?", k=3)
        fixed = Searcher.open(index_dir, embedder=HashingEmbedder(128), alpha=0.7)
        try:
            assert fixed.cross_lingual_alpha == 0.7, "an alpha given by the caller holds for every question"
            english_fixed = fixed.search("What did Zulkifli Hasan say about online transport?", k=3)
        finally:
            fixed.close()
    finally:
        searcher.close()
    assert english and all(h.lexical_score == 0.0 for h in english), "dense alone: BM25 is not asked"
    assert any(h.lexical_score > 0 for h in indonesian), "the articles' language: hybrid"
    assert any(h.lexical_score > 0 for h in english_fixed)


@pytest.mark.slow
def test_readme_python_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re
    import shutil

    from tests.conftest import REPO

    code = re.search(r"## Python API\s+```python\n(.*?)```", (REPO / "README.md").read_text(), re.S).group(1)
    (tmp_path / "seeds").mkdir()
    shutil.copy(SEED, tmp_path / "seeds")
    build_index(Settings(index_dir=tmp_path / "index", sources=(tmp_path / "seeds",), embedding_model="use:multilingual-v3"),
                progress=False)
    monkeypatch.chdir(tmp_path)
    printed: list[str] = []
    exec(compile(code, "README.md", "exec"), {"print": lambda *a: printed.append(" ".join(map(str, a)))})
    assert printed and printed[0].startswith("Anies kunjungi Jepang")
