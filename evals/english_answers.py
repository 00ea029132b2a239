"""Answers to English questions about Indonesian passages (cross-lingual): the 30 hand-translated
FacQA valid questions of `rag.evaluate.english_questions("valid")`, asked of the FacQA eval index
(`rag eval` builds it in .cache/eval). Prints how many are refused and in how many the
first citation is the gold passage. Valid questions: for checking, never for fitting.

    python -m evals.english_answers [--work-dir .cache/eval] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.answer import Assistant
from rag.evaluate import SETS, english_questions, prepare
from rag.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path(".cache/eval"))
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    searcher = prepare(SETS["facqa-en"], args.data_dir, args.work_dir, Settings.from_env(), progress=False)
    try:
        assistant = Assistant(searcher)
        refused = first_gold = 0
        questions = english_questions("valid")
        for question, passage_id in questions:
            answer = assistant.ask(question)
            refused += answer.refused
            first_gold += bool(answer.citations) and answer.citations[0].article_id == passage_id
        n = len(questions)
        print(f"English questions, FacQA passages: {n}; refused {refused}/{n}; first citation gold {first_gold}/{n}")
    finally:
        searcher.close()


if __name__ == "__main__":
    main()
