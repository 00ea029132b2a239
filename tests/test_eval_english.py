"""The English questions of `rag eval --sets facqa-en` (rag/eval_english.json): each points at
the FacQA question it translates, no question is there twice, they read as English, they ship
with the package, and `EvalSet.questions` returns the split asked for. The checks against the
FacQA files need ../shared/data and are skipped without it."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from evals.indosum_qa import default_articles
from rag.errors import ConfigError
from rag.evaluate import ENGLISH_FILE, SETS, english_questions

QA = default_articles().parents[1] / "qa"  # ../shared/data/qa, also from a git worktree
SPLITS = {"valid": 30, "test": 60}
ENGLISH_CUES = {"what", "which", "who", "whom", "whose", "when", "where", "how", "why", "in", "of", "the", "is",
                "are", "was", "did", "does", "to", "at", "from", "for", "on", "a"}
INDONESIAN_QUESTION_WORDS = {"apa", "apakah", "siapa", "siapakah", "berapa", "berapakah", "kapan", "kapankah",
                             "dimana", "dimanakah", "di", "mana", "manakah", "bagaimana", "mengapa", "kenapa",
                             "yang", "dan", "dari", "pada", "tahun"}


def _items() -> dict[str, list[dict[str, str]]]:
    return json.loads(ENGLISH_FILE.read_text(encoding="utf-8"))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def test_both_splits_have_their_size_and_no_duplicates() -> None:
    items = _items()
    assert {split: len(rows) for split, rows in items.items()} == SPLITS
    every = [row for rows in items.values() for row in rows]
    assert all(set(row) == {"id", "question", "passage_id"} for row in every)
    assert len({row["id"] for row in every}) == len(every)
    assert len({row["question"].casefold() for row in every}) == len(every)


@pytest.mark.parametrize("split", SPLITS)
def test_questions_read_as_english(split: str) -> None:
    for row in _items()[split]:
        question = row["question"]
        words = _words(question)
        assert question == question.strip() and question.endswith("?"), question
        assert question[0].isupper(), question
        assert words[0] not in INDONESIAN_QUESTION_WORDS, question
        assert len(set(words) & ENGLISH_CUES) >= 2, question
        assert len(set(words) & INDONESIAN_QUESTION_WORDS) <= 1, question  # a name may hold one ("Di", "Dan")


@pytest.mark.skipif(not (QA / "facqa-test.jsonl").is_file(), reason=f"{QA} (../shared/data/qa) not found")
@pytest.mark.parametrize("split", SPLITS)
def test_every_item_is_a_facqa_question_of_its_split_on_the_same_passage(split: str) -> None:
    with (QA / f"facqa-{split}.jsonl").open(encoding="utf-8") as f:
        facqa = {record["id"]: record for record in map(json.loads, f)}
    for row in _items()[split]:
        assert row["id"] in facqa, f"{row['id']} is not in facqa-{split}.jsonl"
        assert facqa[row["id"]]["passage_id"] == row["passage_id"], row


@pytest.mark.parametrize(("split", "size"), SPLITS.items())
def test_eval_set_returns_the_split_asked_for(tmp_path: Path, split: str, size: int) -> None:
    pairs = SETS["facqa-en"].questions(tmp_path, split, None)  # the data folder is not read for facqa-en
    assert len(pairs) == size
    assert pairs == [(row["question"], row["passage_id"]) for row in _items()[split]]
    assert SETS["facqa-en"].questions(tmp_path, split, 5) == pairs[:5]


def test_the_valid_and_test_questions_differ_and_train_is_refused() -> None:
    assert not set(english_questions("valid")) & set(english_questions("test"))
    with pytest.raises(ConfigError, match="--split valid or --split test"):
        english_questions("train")


def test_the_file_ships_as_package_data() -> None:
    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert ENGLISH_FILE.name in pyproject["tool"]["setuptools"]["package-data"]["rag"]
    assert ENGLISH_FILE.parent.name == "rag"


def test_rag_eval_refuses_a_split_without_english_questions_before_indexing(tmp_path: Path, rag_main) -> None:
    work_dir = tmp_path / "eval"
    result = rag_main("eval", "--sets", "facqa-en", "--split", "train", "--data-dir", str(tmp_path),
                      "--work-dir", str(work_dir))
    assert result.returncode == 2
    assert "facqa-en has no train questions" in result.stderr
    assert not work_dir.exists()
