"""What the echo penalty (rag.evidence.echo: sentences that ask, repeat or only restate the
question) costs on real questions: FacQA valid answers, and with --indosum the odd half of
the unanswerable IndoSum questions, with the penalty and without it, interleaved in one
process on the eval indexes (`rag eval` builds them in .cache/eval). Valid questions: for
checking, never for fitting.

    python -m evals.echo_penalty [--work-dir .cache/eval] [--data-dir ../shared/data] [--indosum]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import rag.evidence as evidence
from rag.answer import Assistant
from rag.evaluate import SETS, _answer_rows, prepare, unanswerable_questions
from rag.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work-dir", type=Path, default=Path(".cache/eval"))
    parser.add_argument("--indosum", action="store_true", help="also the unanswerable IndoSum questions (odd half)")
    args = parser.parse_args()
    settings = Settings.from_env()
    with open(args.data_dir / "qa/facqa-valid.jsonl") as f:
        pairs = [(r["question"], r["answer"], r["passage_id"]) for r in map(json.loads, f)]
    sets = [("facqa valid", "facqa", pairs)]
    if args.indosum:
        sets.append(("indosum unanswerable (odd)", "indosum", unanswerable_questions(part="odd")))
    with_penalty = evidence.echoes

    def without_penalty(questions, candidates):  # type: ignore[no-untyped-def]
        return np.zeros(len(candidates), dtype=np.float32)

    for name, set_name, questions in sets:
        searcher = prepare(SETS[set_name], args.data_dir, args.work_dir, settings, progress=False)
        try:
            for label, echoes in (("without", without_penalty), ("with", with_penalty)) * 2:
                evidence.echoes = echoes
                m = _answer_rows(Assistant(searcher), questions)
                print(f"{name:<28} {label:<8} answer in 1st quote {m['answer_in_first_quote']:.3f}  citation precision "
                      f"{m['citation_precision']:.3f}  refused {m['refused_answerable']:.3f} / "
                      f"{m['refused_unanswerable']:.3f}", flush=True)
        finally:
            searcher.close()
            evidence.echoes = with_penalty


if __name__ == "__main__":
    main()
