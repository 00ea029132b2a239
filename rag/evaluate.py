"""`rag eval`: retrieval quality on the public sets in ../shared/data, side by side with
BM25 alone and dense alone, computed in the same run on the same index.

Sets:
  facqa    FacQA questions against all FacQA passages (each passage is one article)
  tydi     TyDi QA GoldP (Indonesian) questions against all its passages
  indosum  IndoSum known-item search: an article's paraphrased summary sentence must
           find that article among all 3,463

Each set is indexed with rag's own pipeline into a cache folder (`--work-dir`), so a
second run embeds nothing. Reported per set and mode: R@1, R@5, R@10, MRR@10, nDCG@10,
query latency p50/p95. `--tune` sweeps the fusion weight on the valid splits.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .articles import Article, article_from_record
from .indexer import build_index
from .search import Searcher
from .settings import Settings

MODES = {"hybrid": None, "bm25": 1.0, "dense": 0.0}


@dataclass(frozen=True)
class EvalSet:
    name: str
    articles_file: str
    questions_file: str
    question_field: str
    gold_field: str
    passages: bool = True
    """Passages are untitled one-chunk articles, taken as they are (no cleaning, no minimum length)."""

    def articles(self, data_dir: Path) -> Iterator[Article]:
        with open(data_dir / self.articles_file) as f:
            for line in f:
                record = json.loads(line)
                if self.passages:
                    yield Article(id=record["id"], title="", text=record["text"], language="id")
                else:
                    yield article_from_record(record, default_id=record["id"])

    def questions(self, data_dir: Path, split: str, limit: int | None) -> list[tuple[str, str]]:
        path = data_dir / self.questions_file.format(split=split)
        pairs = []
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if self.name == "indosum" and record.get("verbatim_in_article", False):
                    continue  # only the paraphrased queries
                pairs.append((record[self.question_field], record[self.gold_field]))
        return pairs[:limit] if limit else pairs


SETS = {
    "facqa": EvalSet("facqa", "qa/facqa-passages.jsonl", "qa/facqa-{split}.jsonl", "question", "passage_id"),
    "tydi": EvalSet("tydi", "qa/tydiqa-id-passages.jsonl", "qa/tydiqa-id-{split}.jsonl", "question", "passage_id"),
    "indosum": EvalSet("indosum", "news/indosum-articles.jsonl", "qa/indosum-summary-queries.jsonl", "query", "article_id", passages=False),
}


def metrics(ranks: list[int | None], latencies_ms: list[float]) -> dict[str, float]:
    """Ranks are 1-based positions of the gold item (None: not in the top 10)."""
    n = len(ranks) or 1
    found = [r for r in ranks if r is not None]
    result = {f"R@{k}": sum(r <= k for r in found) / n for k in (1, 5, 10)}
    result["MRR@10"] = sum(1 / r for r in found if r <= 10) / n
    result["nDCG@10"] = sum(1 / math.log2(r + 1) for r in found if r <= 10) / n
    ordered = sorted(latencies_ms)
    result["p50_ms"] = statistics.median(ordered) if ordered else 0.0
    result["p95_ms"] = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0
    return result


def prepare(eval_set: EvalSet, data_dir: Path, work_dir: Path, settings: Settings, progress: bool) -> Searcher:
    index_dir = work_dir / f"{eval_set.name}-{settings.embedding_model.replace('/', '_').replace(':', '_')}"
    build_index(settings.replace(index_dir=index_dir), articles=eval_set.articles(data_dir), progress=progress)
    return Searcher.open(index_dir)


def run_set(searcher: Searcher, questions: list[tuple[str, str]], alphas: dict[str, float | None]) -> dict[str, dict]:
    results = {}
    for mode, alpha in alphas.items():
        ranks: list[int | None] = []
        latencies: list[float] = []
        searcher.search(questions[0][0], k=10, alpha=alpha)  # warm-up
        for question, gold in questions:
            started = time.perf_counter()
            hits = searcher.search(question, k=10, alpha=alpha)
            latencies.append((time.perf_counter() - started) * 1000)
            # A hit stands for its near-duplicates too (FacQA has passages that differ only in spacing).
            found = [rank for rank, h in enumerate(hits, start=1) if gold == h.article_id or gold in h.duplicates]
            ranks.append(found[0] if found else None)
        results[mode] = metrics(ranks, latencies)
    return results


def format_table(rows: list[tuple[str, str, dict[str, float]]]) -> str:
    header = f"{'set':<18} {'mode':<12} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7} {'nDCG@10':>8} {'p50 ms':>7} {'p95 ms':>7}"
    lines = [header, "-" * len(header)]
    for name, mode, m in rows:
        lines.append(f"{name:<18} {mode:<12} {m['R@1']:>6.3f} {m['R@5']:>6.3f} {m['R@10']:>6.3f} {m['MRR@10']:>7.3f} "
                     f"{m['nDCG@10']:>8.3f} {m['p50_ms']:>7.1f} {m['p95_ms']:>7.1f}")
    return "\n".join(lines)


def evaluate(
    data_dir: Path,
    work_dir: Path,
    settings: Settings,
    sets: list[str],
    split: str = "test",
    limit: int | None = None,
    tune: bool = False,
    progress: bool = True,
) -> list[tuple[str, str, dict[str, float]]]:
    """Rows of (set, mode, metrics). With `tune`, modes are fusion weights alpha=0.0..1.0."""
    alphas: dict[str, float | None] = (
        {f"alpha={a / 10:.1f}": a / 10 for a in range(11)} if tune else dict(MODES)
    )
    rows = []
    for name in sets:
        eval_set = SETS[name]
        searcher = prepare(eval_set, data_dir, work_dir, settings, progress)
        try:
            questions = eval_set.questions(data_dir, split, limit)
            label = f"{name}-{split}" if name != "indosum" else "indosum-paraphrased"
            for mode, m in run_set(searcher, questions, alphas).items():
                rows.append((f"{label} ({len(questions)})", mode, m))
        finally:
            searcher.close()
    return rows
