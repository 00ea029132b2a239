"""`rag eval --answers` reports the IndoSum QA rows beside the FacQA rows: run on a tiny copy
of ../shared/data (a few FacQA passages, the IndoSum articles the questions are about) with
the hashing embedder, so it runs in seconds. Skipped without ../shared/data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from evals.indosum_qa import default_articles
from rag.evaluate import evaluate_answers, format_answer_table, indosum_qa_questions
from rag.settings import Settings

SHARED_DATA = default_articles().parents[1]  # ../shared/data, also from a git worktree

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "news" / "indosum-articles.jsonl").is_file(),
                                reason=f"{SHARED_DATA} (../shared/data) not found")


def _tiny_data(folder: Path, article_ids: set[str]) -> None:
    (folder / "qa").mkdir(parents=True)
    (folder / "news").mkdir()
    questions = [json.loads(line) for line in (SHARED_DATA / "qa" / "facqa-valid.jsonl").open()][:3]
    passages = {q["passage_id"] for q in questions}
    with (SHARED_DATA / "qa" / "facqa-passages.jsonl").open() as f:
        kept = [line for line in f if json.loads(line)["id"] in passages]
    (folder / "qa" / "facqa-passages.jsonl").write_text("".join(kept))
    (folder / "qa" / "facqa-valid.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    with (SHARED_DATA / "qa" / "tydiqa-id-valid.jsonl").open() as f:
        (folder / "qa" / "tydiqa-id-valid.jsonl").write_text("".join(line for _, line in zip(range(6), f)))
    with (SHARED_DATA / "news" / "indosum-articles.jsonl").open() as f:
        kept = [line for line in f if json.loads(line)["id"] in article_ids]
    (folder / "news" / "indosum-articles.jsonl").write_text("".join(kept))


def test_indosum_qa_questions_follow_the_split() -> None:
    valid = indosum_qa_questions("valid", answerable=True)
    assert len(valid) == 90 and all(gold and article.startswith("indosum-") for _, gold, article in valid)
    unanswerable = indosum_qa_questions("valid", answerable=False)
    assert len(unanswerable) == 52 and all(gold == "" and article is None for _, gold, article in unanswerable)
    assert indosum_qa_questions("valid", True, folder=Path("/nonexistent")) == []


def test_answer_eval_has_indosum_qa_rows(tmp_path: Path) -> None:
    answerable = indosum_qa_questions("valid", answerable=True)[:2]
    rows = [json.loads(line) for line in (Path(__file__).parents[1] / "evals/indosum_qa/unanswerable.jsonl").open()]
    topics = {r["topic_article_ids"][0] for r in rows if r["split"] == "valid"}
    _tiny_data(tmp_path / "data", {article for _, _, article in answerable if article} | set(sorted(topics)[:5]))
    settings = Settings(index_dir=tmp_path / "index", embedding_model="hash:256")
    table = dict(evaluate_answers(tmp_path / "data", tmp_path / "work", settings, split="valid", limit=2,
                                  progress=False))
    assert list(table) == ["facqa-valid answerable", "indosum-qa answerable (valid)",
                           "indosum-qa unanswerable (valid)", "indosum unanswerable (odd)",
                           "off-topic (tydi-valid on indosum)"]
    assert table["indosum-qa answerable (valid)"]["questions"] == 2
    assert table["indosum-qa unanswerable (valid)"]["questions"] == 2
    assert math.isnan(table["indosum-qa unanswerable (valid)"]["refused_answerable"])  # none answerable there
    assert 0.0 <= table["indosum-qa unanswerable (valid)"]["refused_unanswerable"] <= 1.0
    assert 0.0 <= table["indosum-qa answerable (valid)"]["answer_in_first_quote"] <= 1.0
    assert "indosum-qa answerable (valid)" in format_answer_table(list(table.items()))


def test_off_topic_questions_are_those_whose_answer_no_article_holds(tmp_path: Path) -> None:
    from rag.evaluate import off_topic_questions

    (tmp_path / "qa").mkdir()
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "indosum-articles.jsonl").write_text(
        json.dumps({"id": "a", "text": "Presiden Joko Widodo meresmikan jalan tol."}) + "\n")
    (tmp_path / "qa" / "tydiqa-id-test.jsonl").write_text(
        json.dumps({"question": "Siapa presiden ke-7 Indonesia?", "answer": "Joko Widodo"}) + "\n"
        + json.dumps({"question": "Apa kepanjangan GPS?", "answer": "Global Positioning System",
                      "all_answers": ["Global Positioning System"]}) + "\n")
    assert off_topic_questions(tmp_path, "test") == [("Apa kepanjangan GPS?", "", None)]
