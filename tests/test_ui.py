"""The chat UI's logic (rag.ui, its strings and rendering, the guards) on a real index, without Gradio."""

from __future__ import annotations

import html
import re
import shutil
import time
from pathlib import Path

import pytest

from rag.answer import Answer
from rag.citations import AnswerSentence, Citation, Span
from rag.evidence import MAX_QUESTION_CHARS, question_language
from rag.errors import ConfigError
from rag.indexer import build_index
from rag.refs import ArticleRef
from rag.settings import Settings
from rag.guards import check_exposure, private_paths
from rag.ui import ChatService, Status, parse_day
from rag.ui_render import Passage, Turn, answer_markdown, escape_markdown, paragraph_around, safe_url, sources_html
from rag.ui_text import EXAMPLES, TEXTS, counted, interface_language
from tests.ui_support import ENGLISH, HOSTILE_QUESTIONS, INDONESIAN, UI_EMBEDDER, index_ui_corpus, words_of

REAL_EMBEDDER = "use:multilingual-v3"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return index_ui_corpus(tmp_path_factory.mktemp("ui"))


@pytest.fixture(scope="module")
def service(indexed: Settings) -> ChatService:
    return ChatService(indexed, min_interval_s=0)


@pytest.fixture(scope="module")
def real_service(tmp_path_factory: pytest.TempPathFactory) -> ChatService:
    """The UI corpus on the real offline embedder, for what depends on retrieval quality."""
    return ChatService(index_ui_corpus(tmp_path_factory.mktemp("ui-real"), embedding_model=REAL_EMBEDDER),
                       min_interval_s=0)


def _final(service: ChatService, question: str, **kwargs):
    replies = list(service.ask(question, **kwargs))
    return replies, replies[-1]


def test_answer_streams_then_carries_citations_and_passages(service: ChatService) -> None:
    replies, last = _final(service, "Apa yang dibahas Anies dengan Gubernur Tokyo?")
    assert len(replies) > 2, "the text arrives in pieces before the final answer"
    assert all(r.answer is None for r in replies[:-1])
    answer = last.answer
    assert answer is not None and not answer.refused and answer.citations
    for sentence in answer.sentences:
        for n, index in sentence.cites:
            assert f"(#rag-src-0-{n}-{index})" in last.markdown, "the marker points at its sentence's span"
    page = sources_html([last.turn], "id")
    for citation in answer.citations:
        passage = last.turn.passages[citation.n]
        assert [passage.text[s:e] for s, e in passage.marks] == [span.quote for span in citation.spans], \
            "every quoted span is marked in its paragraph"
        for index, span in enumerate(citation.spans):
            assert f'<mark id="rag-src-0-{citation.n}-{index}">{html.escape(span.quote)}</mark>' in page


def test_an_answer_ready_at_once_goes_out_in_one_update(indexed: Settings) -> None:
    replies = list(ChatService(indexed, min_interval_s=60).ask("Apa yang dibahas Anies dengan Gubernur Tokyo?"))
    assert len(replies) == 2 and replies[-1].answer is not None
    assert replies[-1].markdown.startswith(replies[0].markdown.rstrip())


def test_markers_link_to_this_turns_sources(service: ChatService) -> None:
    _, last = _final(service, "Siapa Gubernur Tokyo?", turn=3)
    assert re.search(r"\(#rag-src-3-\d+-\d+\)", last.markdown)
    page = sources_html([last.turn] * 4, "id")
    assert 'id="rag-src-3-1"' in page and page.count("<details") == 4
    assert page.count(" open>") == 1, "only the latest answer's sources start open"


@pytest.mark.parametrize(("question", "key"), [("", "Pertanyaannya kosong"), ("   ", "Pertanyaannya kosong"),
                                               ("a" * (MAX_QUESTION_CHARS + 1), f"batasnya {MAX_QUESTION_CHARS}")])
def test_bad_questions_get_a_message(service: ChatService, question: str, key: str) -> None:
    replies = list(service.ask(question))
    assert len(replies) == 1 and replies[0].error and key in replies[0].error


def test_english_question_gets_english_messages(service: ChatService) -> None:
    reply = list(service.ask("what is " + "x" * MAX_QUESTION_CHARS))[0]
    assert "the limit is" in reply.error


def test_date_and_outlet_filters_reach_the_retrieval(service: ChatService) -> None:
    question = "Apa yang dibahas Anies dengan Gubernur Tokyo?"
    _, after = _final(service, question, since="2023-01-01")
    assert after.answer.refused and not after.answer.citations
    _, day = _final(service, question, since="2022-08-13", until="13 Agustus 2022")
    assert {c.article_id for c in day.answer.citations} == {"antara-2022-08-13-anies-kunjungi-jepang"}
    _, elsewhere = _final(service, question, outlet="sportivo")
    assert all(c.source == "sportivo" for c in elsewhere.answer.citations)
    _, bad = _final(service, question, since="kemarin lusa sore")
    assert bad.error and "kemarin lusa sore" in bad.error


def test_follow_up_uses_the_history(service: ChatService) -> None:
    _, first = _final(service, "Apa yang dibahas Anies dengan Gubernur Tokyo?")
    _, follow = _final(service, "Kapan itu?", history=[("Apa yang dibahas Anies dengan Gubernur Tokyo?",
                                                           first.answer.text)])
    assert "Anies" in follow.answer.query


@pytest.mark.slow
@pytest.mark.parametrize("question", [q for questions in EXAMPLES.values() for q in questions])
def test_example_questions_are_answered_from_the_seed(real_service: ChatService, question: str) -> None:
    """The examples offered in the UI (English ones too, across languages) find the seed."""
    _, last = _final(real_service, question)
    assert not last.answer.refused
    assert last.answer.citations[0].article_id == "antara-2022-08-13-anies-kunjungi-jepang"


def test_an_unreachable_llm_gives_the_quoted_answer_with_a_notice(indexed: Settings) -> None:
    settings = indexed.replace(llm="openai:any-model", openai_base_url="http://127.0.0.1:9/v1", llm_timeout_s=5.0)
    service = ChatService(settings)
    _, last = _final(service, "Apa yang dibahas Anies dengan Gubernur Tokyo?")
    assert last.answer.citations and last.answer.notice and "tidak dapat dihubungi" in last.markdown
    assert "127.0.0.1:9" in service.status_markdown("en")


def test_no_index_says_how_to_build_it(tmp_path: Path) -> None:
    service = ChatService(Settings(index_dir=tmp_path / "nothing"))
    reply = list(service.ask("Siapa Gubernur Tokyo?"))[0]
    assert "rag index" in reply.error and str(tmp_path / "nothing") in reply.error
    assert "rag index" in service.status_markdown("en") and service.outlets() == []


@pytest.mark.parametrize(("language", "foreign"), [("en", INDONESIAN), ("id", ENGLISH)])
def test_every_fixed_string_is_in_the_interface_language(language: str, foreign: set[str]) -> None:
    from rag.llm import describe

    shown = [*TEXTS[language].values(), *(describe(spec, openai_base_url=url, language=language)
                                          for spec, url in ((None, None), ("ollama:m", None), ("openai:m", None),
                                                            ("openai:m", "http://x:1/v1"), ("hf:m", None)))]
    status = Status(1, 1, "hash:64", None, None, describe(None), "2022-08-13T13:56:00",
                    {lang: describe(None, language=lang) for lang in TEXTS})
    shown.append(status.markdown(language))
    for string in shown:
        assert not words_of(string) & foreign, (string, words_of(string) & foreign)
    assert all(question_language(q) == language for q in EXAMPLES[language]), "example questions, too"


def test_counts_read_right_in_both_languages() -> None:
    assert [counted("en", "n_articles", n) for n in (0, 1, 2, 3463)] == \
        ["0 articles", "1 article", "2 articles", "3,463 articles"]
    assert [counted("id", "n_articles", n) for n in (1, 3463)] == ["1 artikel", "3.463 artikel"]
    status = Status(1, 1, "hash:64", None, None, "extractive (offline, no LLM)", "2022-08-13T13:56:00")
    assert status.markdown("en").startswith("1 article, 1 chunk · ")
    assert status.markdown("id").startswith("1 artikel, 1 potongan · ")


def test_serving_line_names_url_index_embedder_and_answer_mode(service: ChatService, tmp_path: Path) -> None:
    line = service.serving_line("http://127.0.0.1:7860/")
    assert line.startswith("rag: chat UI on http://127.0.0.1:7860/ · index ")
    assert f"{service.settings.index_dir}/" in line and f"embedder {UI_EMBEDDER}" in line
    assert "articles, " in line and line.endswith("answers: extractive (offline, no LLM)")
    empty = ChatService(service.settings.replace(index_dir=tmp_path / "none")).serving_line("http://h:1/")
    assert "no index in" in empty and "rag index" in empty


def test_status_names_counts_embedder_and_answer_mode(service: ChatService, indexed: Settings) -> None:
    status = service.status()
    assert status.articles >= 8 and status.chunks >= status.articles
    assert status.embedder == UI_EMBEDDER and status.fallback_reason is None
    assert "extractive" in status.markdown("en") and "ANTARA" in service.outlets()


def test_fallback_embedder_is_announced(tmp_path: Path) -> None:
    settings = index_ui_corpus(tmp_path, embedding_model="no-such-org/no-such-model",
                               embedding_fallback=UI_EMBEDDER)
    line = ChatService(settings).status_markdown("en")
    assert "no-such-org/no-such-model" in line and "fallback" in line


def test_a_rebuilt_index_is_noticed_without_restart(tmp_path: Path) -> None:
    settings = index_ui_corpus(tmp_path)
    service = ChatService(settings)
    before = service.status().articles
    first_path = service.assistant().searcher.path
    extra = settings.sources[0] / "tambahan.txt"
    shutil.copy(settings.sources[0] / "pasar-apung.txt", extra)
    extra.write_text(extra.read_text().replace("Lok Baintan", "Kuin").replace("3.000", "1.200"))
    build_index(settings, progress=False)
    assert service.status().articles == before + 1
    assert service.assistant().searcher.path != first_path
    _, last = _final(service, "Berapa wisatawan yang mengunjungi pasar apung Kuin?")
    assert any(c.article_id == "tambahan" for c in last.answer.citations)


def test_on_a_chroma_server_the_ui_answers_and_follows_a_rebuild(tmp_path: Path, chroma_url: str) -> None:
    import uuid

    settings = index_ui_corpus(tmp_path, chroma_url=chroma_url, collection=f"ui{uuid.uuid4().hex[:10]}")
    service = ChatService(settings)
    _, first = _final(service, "Apa yang dibahas Anies dengan Gubernur Tokyo?")
    assert first.answer.citations and first.turn.passages[first.answer.citations[0].n].marks
    before = service.status().articles
    extra = settings.sources[0] / "tambahan.txt"
    extra.write_text((settings.sources[0] / "pasar-apung.txt").read_text().replace("Lok Baintan", "Kuin"))
    build_index(settings, progress=False)
    # A searcher re-reads the server's pointer every FOLLOW_S seconds and builds the new
    # generation's tables in the background, answering from the old one meanwhile.
    deadline = time.monotonic() + 90
    while True:
        _, last = _final(service, "Berapa wisatawan yang mengunjungi pasar apung Kuin?")
        if any(c.article_id == "tambahan" for c in last.answer.citations) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert any(c.article_id == "tambahan" for c in last.answer.citations)
    assert service.status().articles == before + 1
    assert chroma_url in service.status_markdown("en")
    assert chroma_url in service.status_markdown("en")
    empty = ChatService(settings.replace(collection=f"none{uuid.uuid4().hex[:8]}"))
    assert chroma_url in list(empty.ask("Siapa Gubernur Tokyo?"))[0].error


@pytest.mark.parametrize("question", HOSTILE_QUESTIONS)
def test_hostile_article_text_is_escaped_everywhere(service: ChatService, question: str) -> None:
    _, last = _final(service, question)
    assert last.answer.citations, "the hostile article is found and quoted"
    page = sources_html([last.turn], "id")
    for dangerous in ("<script", "<img", "<b>", "javascript:", "onerror=\""):
        assert dangerous not in page
    assert "&lt;" in page or "![pelacak](http" in page, "the markup is there, as text"
    chat = last.markdown
    assert "<script" not in chat and "<img" not in chat and "](http" not in chat


def test_escape_markdown_leaves_no_live_syntax() -> None:
    shown = escape_markdown("![x](http://e.test/i.png) <script>a()</script> **b** [c](javascript:d)")
    assert "<" not in shown and "![" not in shown and "](" not in shown and "**" not in shown
    unescaped = re.sub(r"\\(.)", r"\1", html.unescape(shown))
    assert unescaped == "![x](http://e.test/i.png) <script>a()</script> **b** [c](javascript:d)"


def test_answer_markdown_links_only_real_markers() -> None:
    answer = Answer("Satu [1]. Dua [2] dan [x].", notice="catatan <b>")
    shown = answer_markdown(answer, 7)
    assert "(#rag-src-7-1)" in shown and "(#rag-src-7-2)" in shown and "[x]" not in shown
    assert shown.endswith("*catatan &lt;b&gt;*")


def test_paragraph_around_marks_every_quoted_span() -> None:
    body = "Judul.\nKalimat satu. Kalimat dua. Kalimat tiga.\nParagraf lain.\nParagraf akhir."
    first, second, last = body.index("Kalimat satu."), body.index("Kalimat tiga."), body.index("Paragraf akhir.")
    passage = paragraph_around(body, [(first, first + 13), (second, second + 13), (last, last + 15)])
    assert passage.text == "Kalimat satu. Kalimat dua. Kalimat tiga.\n…\nParagraf akhir.", "a gap between paragraphs"
    assert [passage.text[s:e] for s, e in passage.marks] == ["Kalimat satu.", "Kalimat tiga.", "Paragraf akhir."]
    joined = paragraph_around(body, [(first, first + 13), (0, 6)])
    assert joined.text == "Judul.\nKalimat satu. Kalimat dua. Kalimat tiga.", "next paragraphs stay together"
    assert [joined.text[s:e] for s, e in joined.marks] == ["Kalimat satu.", "Judul."]
    assert paragraph_around(body, [(first, first + 13), (500, 510)]).marks[1] == (-1, -1)


def test_two_sentences_citing_one_article_each_highlight_their_own_span() -> None:
    body = "Anies tiba di Tokyo pada Sabtu.\nParagraf lain.\nIa bertemu Gubernur Koike di Balai Kota."
    one, two = "Anies tiba di Tokyo pada Sabtu.", "Ia bertemu Gubernur Koike di Balai Kota."
    spans = (Span(one, 0, len(one)), Span(two, body.index(two), len(body)))
    citation = Citation(1, ArticleRef("a", "Judul", "ANTARA"), one, 0, len(one), spans=spans)
    answer = Answer(f"Menurut artikel: {one} [1] {two} [1]", [citation],
                    sentences=[AnswerSentence(one, ((1, 0),)), AnswerSentence(two, ((1, 1),))])
    shown = answer_markdown(answer, 2)
    assert shown.index("(#rag-src-2-1-0)") < shown.index("(#rag-src-2-1-1)"), "the second [1] opens the second span"
    turn = Turn("q", answer, {1: paragraph_around(body, [(s.start, s.end) for s in spans])})
    page = sources_html([turn], "id")
    assert f'<mark id="rag-src-2-1-0">{one}</mark>' not in page, "turn numbers come from the panel's order"
    assert f'<mark id="rag-src-0-1-0">{one}</mark>' in page and f'<mark id="rag-src-0-1-1">{two}</mark>' in page
    assert "Paragraf lain" not in page and "…" in page
    assert "(#rag-src-2-1)" in answer_markdown(answer.text, 2), "while streaming: the source itself"


def test_sources_panel_shows_metadata_and_safe_links_only() -> None:
    def cite(url: str | None) -> Turn:
        c = Citation(1, ArticleRef("a", "Judul", "ANTARA", "2022-08-13T13:56:00+07:00", url, "Sri"), "kutipan", 0, 7)
        return Turn("q", Answer("kutipan [1]", [c]), {1: Passage("kutipan ini", ((0, 7),))})

    page = sources_html([cite("https://antaranews.com/a")], "en")
    assert 'href="https://antaranews.com/a"' in page and "ANTARA · 2022-08-13 · by Sri" in page
    assert '<mark id="rag-src-0-1-0">kutipan</mark> ini' in page
    assert "href" not in sources_html([cite("javascript:alert(1)")], "en")
    assert safe_url("data:text/html,x") is None and safe_url(" http://x.test/a ") == "http://x.test/a"
    assert "appear here" in sources_html([], "en")


def test_interface_language_follows_choice_or_question() -> None:
    assert interface_language("en", "Siapa dia?") == "en"
    assert interface_language("auto", "Who is the governor of Tokyo?") == "en"
    assert interface_language("auto", "Siapa Gubernur Tokyo?") == "id"
    assert interface_language("auto") == "id"


def test_until_is_inclusive_of_its_day() -> None:
    assert parse_day("2022-08-13", "id", next_day=True).isoformat().startswith("2022-08-14T00:00")
    assert parse_day("2022-08-13 12:30", "id", next_day=True).isoformat().startswith("2022-08-13T12:30")
    assert parse_day("", "id") is None


@pytest.mark.parametrize(("until", "included"), [("2022-08-13", True), ("13 Agustus 2022", True),
                                                 ("2022-08-12", False), ("2022-08-13 13:00", False),
                                                 ("2022-08-13 14:00", True)])
def test_until_in_the_chat_means_what_it_means_on_the_command_line(service: ChatService, until: str,
                                                                   included: bool) -> None:
    _, last = _final(service, "Apa yang dibahas Anies dengan Gubernur Tokyo?", until=until)  # seed: 13 Aug 13:56
    cited = {c.article_id for c in last.answer.citations}
    assert ("antara-2022-08-13-anies-kunjungi-jepang" in cited) is included


@pytest.mark.parametrize(("host", "auth", "allow", "ok"), [
    ("127.0.0.1", None, False, True), ("localhost", None, False, True), ("::1", None, False, True),
    ("0.0.0.0", None, False, False), ("192.168.1.5", None, False, False),
    ("0.0.0.0", "ana:rahasia", False, True), ("0.0.0.0", None, True, True),
])
def test_listening_beyond_loopback_needs_a_login(host: str, auth: str | None, allow: bool, ok: bool) -> None:
    settings = Settings(server_name=host, auth=auth, allow_public=allow)
    if ok:
        check_exposure(settings)
    else:
        with pytest.raises(ConfigError, match="RAG_AUTH"):
            check_exposure(settings)


def test_server_settings_from_environment() -> None:
    settings = Settings.from_env({"RAG_SERVER_NAME": "0.0.0.0", "RAG_SERVER_PORT": "8000", "RAG_AUTH": "ana:rahasia",
                                  "RAG_ALLOW_PUBLIC": "1", "RAG_QUEUE_SIZE": "5", "RAG_CONCURRENCY": "3"})
    assert (settings.server_name, settings.server_port, settings.auth, settings.allow_public,
            settings.queue_size, settings.concurrency) == ("0.0.0.0", 8000, "ana:rahasia", True, 5, 3)
    for bad in ({"RAG_AUTH": "no-colon"}, {"RAG_SERVER_PORT": "70000"}, {"RAG_QUEUE_SIZE": "0"}):
        with pytest.raises(ConfigError):
            Settings.from_env(bad)


def test_private_paths_cover_index_articles_and_secrets(tmp_path: Path) -> None:
    paths = private_paths(Settings(index_dir=tmp_path / "idx", sources=(tmp_path / "art",)))
    assert str(tmp_path / "idx") in paths and str(tmp_path / "art") in paths
    assert any(p.endswith(".env") for p in paths)


def test_the_bundled_e5_is_named_as_the_same_model_not_a_weaker_fallback() -> None:
    from rag.ui import Status

    status = Status(articles=1, chunks=5, embedder="e5:bundled", requested="intfloat/multilingual-e5-small",
                    fallback_reason="not in the Hugging Face cache", llm="extractive (offline, no LLM)",
                    built_at="2026-12-02T02:41:00+00:00")
    english, indonesian = status.markdown("en"), status.markdown("id")
    assert "the bundled 4-bit copy of `intfloat/multilingual-e5-small`" in english and "weaker" not in english
    assert "salinan 4-bit bawaan" in indonesian and "lebih lemah" not in indonesian
    weaker = Status(**{**status.__dict__, "embedder": "use:multilingual-v3"})
    assert "weaker" in weaker.markdown("en")
