"""The IndoSum QA set (evals/indosum_qa): the committed file passes its checker, and the
checker catches what it is there to catch. Needs ../shared/data (the IndoSum articles)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evals.indosum_qa import (ANSWERABLE, KINDS, AnswerableQuestion, default_articles, load_answerable,
                              load_unanswerable, split_for)
from evals.indosum_qa import check

ARTICLES = default_articles()

pytestmark = pytest.mark.skipif(not ARTICLES.is_file(),
                                reason=f"IndoSum articles not found at {ARTICLES} (../shared/data)")


@pytest.fixture(scope="module")
def articles() -> dict[str, dict]:
    return check.load_articles(ARTICLES)


def test_committed_file_passes_the_checker(capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main(["--articles", str(ARTICLES)]) == 0
    out = capsys.readouterr().out
    assert "| kind | siapa |" in out and out.rstrip().endswith("ok")


def test_committed_set_is_big_and_balanced_enough() -> None:
    questions = load_answerable()
    assert len(questions) >= 300 and all(isinstance(q, AnswerableQuestion) for q in questions)
    kinds = Counter(q.kind for q in questions)
    for kind in ("siapa", "kapan", "berapa", "di mana", "apa"):
        assert kinds[kind] >= 0.1 * len(questions), kinds
    assert sum(q.lang == "en" for q in questions) >= 0.08 * len(questions)
    assert sum(q.paraphrased for q in questions) >= len(questions) / 3
    assert {q.split for q in questions} == {"train", "valid", "test"}
    assert len({q.article_id for q in questions}) >= 150
    assert load_answerable(split="test") == [q for q in questions if q.split == "test"]


def test_split_rule_is_sha1_of_the_article_id() -> None:
    # int(sha1(id).hexdigest(), 16) % 10: 0-5 train, 6-7 valid, 8-9 test
    assert {split_for(f"article-{n}") for n in range(50)} == {"train", "valid", "test"}
    assert split_for("indosum-1490674536-mustahil-transportasi-tradisional-dan-online-bersa") == "train"


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def test_checker_rejects_a_span_not_in_the_article(tmp_path: Path, articles: dict[str, dict]) -> None:
    good = json.loads(ANSWERABLE.read_text(encoding="utf-8").splitlines()[0])
    changed = {**good, "id": "iqa-0002", "question": good["question"] + " (lagi)",
               "answer": good["answer"].lower() + " x"}  # different case and characters
    wrong_split = {**good, "id": "iqa-0003", "question": "Pertanyaan lain?",
                   "split": next(s for s in ("train", "valid", "test") if s != good["split"])}
    path = _write(tmp_path / "answerable.jsonl", [good, changed, wrong_split])
    rows, problems = check.check_answerable(path, articles)
    assert len(rows) == 3
    assert any("not verbatim" in p and ":2:" in p for p in problems)
    assert any("the rule gives" in p and ":3:" in p for p in problems)
    assert any("3 questions about" in p for p in problems)  # at most two per article
    assert len(problems) == 3


def test_checker_rejects_bad_shapes(tmp_path: Path, articles: dict[str, dict]) -> None:
    good = json.loads(ANSWERABLE.read_text(encoding="utf-8").splitlines()[0])
    path = tmp_path / "answerable.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "kind": "kenapa", "question": "x?"}) + "\n"
                    + "{not json\n" + json.dumps({**good, "question": "y?", "extra": 1}) + "\n"
                    + json.dumps({**good, "question": "z?", "article_id": "nope"}) + "\n", encoding="utf-8")
    _, problems = check.check_answerable(path, articles)
    text = "\n".join(problems)
    assert "duplicate id" in text and "kind 'kenapa'" in text and "not JSON" in text
    assert "unexpected ['extra']" in text and "'nope' not in the articles file" in text
    assert "kenapa" not in KINDS


def test_checker_validates_the_unanswerable_shape(tmp_path: Path, articles: dict[str, dict]) -> None:
    topic = next(iter(articles))
    good = {"id": "iqu-0001", "question": "Berapa medali emas Indonesia di Asian Games 2018?", "lang": "id",
            "kind": "berapa", "topic_article_ids": [topic], "why": "after the corpus", "split": split_for(topic)}
    bad = {**good, "id": "iqu-0002", "topic_article_ids": [], "lang": "fr"}
    wrong = {**good, "id": "iqu-0003", "topic_article_ids": ["missing-id"]}
    path = _write(tmp_path / "unanswerable.jsonl", [good, bad, wrong])
    rows, problems = check.check_unanswerable(path, articles)
    assert len(rows) == 3
    assert any(":2:" in p and "lang" in p for p in problems)
    assert any(":2:" in p and "non-empty list" in p for p in problems)
    assert any(":3:" in p and "missing-id" in p for p in problems)
    assert not any(":1:" in p for p in problems)
    loaded = load_unanswerable(_write(tmp_path / "good.jsonl", [good]))
    assert loaded[0].topic_article_ids == (topic,) and loaded[0].split == split_for(topic)


def test_main_reports_a_missing_articles_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main(["--articles", str(tmp_path / "absent.jsonl")]) == 1
    assert "articles file not found" in capsys.readouterr().err
