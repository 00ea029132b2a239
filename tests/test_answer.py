"""The extractive answerer on the real seed article and the real offline embedder."""

from __future__ import annotations

import re

import pytest

from rag.answer import Assistant, question_language, resolve_follow_up
from rag.articles import read_sources
from rag.indexer import build_index
from rag.search import Searcher
from rag.settings import Settings
from tests.conftest import SEED
from tests.corpus import write_good_articles


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("answers")
    articles = root / "articles"
    articles.mkdir()
    (articles / SEED.name).write_text(SEED.read_text())
    write_good_articles(articles)
    build_index(Settings(index_dir=root / "index", sources=(articles,), embedding_model="use:multilingual-v3"),
                progress=False)
    searcher = Searcher.open(root / "index")
    yield Assistant(searcher), {a.id: a for a in read_sources([articles]).articles}
    searcher.close()


def _check_citations(answer, bodies) -> None:
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}, "every marker has a source and every source is cited"
    for c in answer.citations:
        body = bodies[c.article_id].text
        assert body[c.start:c.end] == c.quote, "the quote is verbatim, at its offsets"
        for start, end, text in c.more_quotes:
            assert body[start:end] == text


def test_answers_with_a_verbatim_cited_quote(assistant) -> None:
    helper, bodies = assistant
    answer = helper.ask("Kapan Anies pertama kali bertemu Gubernur Koike?")
    assert not answer.refused and answer.language == "id"
    assert "2017" in answer.citations[0].quote
    assert answer.citations[0].source == "ANTARA"
    _check_citations(answer, bodies)
    sentences = re.findall(r"[^\[\]]+?(?= \[\d+\])", answer.text)
    assert len(sentences) == len(set(sentences)), "no sentence twice"


def test_refuses_when_the_articles_do_not_say(assistant) -> None:
    helper, _ = assistant
    answer = helper.ask("Siapa presiden Prancis saat ini?")
    assert answer.refused and answer.citations == []
    assert "tidak memuat" in answer.text
    english = helper.ask("Who won the football world cup?")
    assert english.refused and "do not contain" in english.text


def test_english_question_about_an_indonesian_article(assistant) -> None:
    helper, bodies = assistant
    answer = helper.ask("When did Anies first meet Governor Koike?")
    assert answer.language == "en" and answer.text.startswith("According to the articles")
    assert not answer.refused and answer.citations[0].article_id.startswith("antara-2022")
    _check_citations(answer, bodies)


def test_follow_up_uses_the_conversation(assistant) -> None:
    helper, bodies = assistant
    history = [("Berapa target produksi gabah Kabupaten Lamboraya?", "…")]
    assert resolve_follow_up("Kapan itu dicapai?", history).startswith("Berapa target produksi gabah")
    assert resolve_follow_up("Siapa Gubernur Tokyo yang ditemui Anies Baswedan?", history).startswith("Siapa")
    answer = helper.ask("Siapa yang menyampaikannya?", history=history)
    assert not answer.refused and "Lamboraya" in answer.citations[0].title
    _check_citations(answer, bodies)


def test_streaming_yields_the_text_then_the_answer(assistant) -> None:
    helper, _ = assistant
    events = list(helper.stream("Berapa target produksi gabah Kabupaten Lamboraya?"))
    *pieces, final = events
    assert all(isinstance(p, str) for p in pieces) and len(pieces) > 3
    assert "".join(pieces) == final.text


def test_question_language() -> None:
    assert question_language("Siapa yang ditemui Anies?") == "id"
    assert question_language("Who did Anies meet in Tokyo?") == "en"
