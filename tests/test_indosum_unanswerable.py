"""The committed unanswerable IndoSum questions (issue 15) pass the checker's fast checks.

Only the shape, corpus and split checks run here (no BM25 index build); the on-topic
check is `python -m evals.indosum_qa.check_unanswerable` (see evals/indosum_qa/UNANSWERABLE.md).
The corpus checks need ../shared/data (found as the checker finds it, or RAG_TEST_SHARED_DATA)
and are skipped without it.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from evals.indosum_qa.check_unanswerable import (DEFAULT_ARTICLES, DEFAULT_SET, KINDS, load_jsonl, main,
                                                 shape_problems, split_for)

ARTICLES = (Path(os.environ["RAG_TEST_SHARED_DATA"]) / "news" / "indosum-articles.jsonl"
            if os.environ.get("RAG_TEST_SHARED_DATA") else DEFAULT_ARTICLES)
needs_corpus = pytest.mark.skipif(not ARTICLES.exists(), reason=f"IndoSum articles not found at {ARTICLES}")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return load_jsonl(DEFAULT_SET)


@pytest.fixture(scope="module")
def article_ids() -> list[str]:
    return [a["id"] for a in load_jsonl(ARTICLES)]


@needs_corpus
def test_committed_set_passes_the_fast_checks(rows: list[dict], article_ids: list[str]) -> None:
    assert shape_problems(rows, article_ids) == []
    assert main(["--no-search", "--quiet", "--articles", str(ARTICLES)]) == 0


def test_committed_set_size_and_mix(rows: list[dict]) -> None:
    assert len(rows) >= 200
    english = sum(row["lang"] == "en" for row in rows) / len(rows)
    assert 0.10 <= english <= 0.25, english
    kinds = {row["kind"] for row in rows}
    assert {"siapa", "kapan", "berapa", "di mana", "apa"} <= kinds <= set(KINDS)
    assert {row["split"] for row in rows} == {"train", "valid", "test"}


def test_split_rule_is_the_shared_one(rows: list[dict]) -> None:
    # int(sha1(first topic id), 16) % 10: < 6 train, < 8 valid, else test
    for row in rows:
        assert row["split"] == split_for(row["topic_article_ids"][0]), row["id"]
    assert split_for("indosum-x") in {"train", "valid", "test"}


def test_checker_reports_broken_rows(rows: list[dict]) -> None:
    broken = copy.deepcopy(rows[:3])
    broken[0]["split"] = next(s for s in ("train", "valid", "test") if s != broken[0]["split"])
    broken[1]["question"] = broken[2]["question"]
    broken[2]["topic_article_ids"] = ["indosum-no-such-article"]
    problems = shape_problems(broken, [t for row in rows for t in row["topic_article_ids"]])
    assert any(p.startswith("iqu-0001: split") for p in problems), problems
    assert any(p.startswith("iqu-0002: same question") or p.startswith("iqu-0003: same question")
               for p in problems), problems
    assert any("iqu-0003: topic indosum-no-such-article is not in the corpus" in p for p in problems), problems
