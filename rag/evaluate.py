"""`rag eval`: retrieval quality on the public sets in ../shared/data, side by side with
BM25 alone and dense alone, computed in the same run on the same index.

Sets:
  facqa    FacQA questions against all FacQA passages (each passage is one article)
  facqa-en FacQA questions translated into English by hand (eval_english.json: 30 valid,
           60 test), against the same Indonesian passages: the cross-lingual case
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .articles import Article, article_from_record
from .errors import ConfigError
from .indexer import build_index
from .search import Searcher
from .settings import Settings

MODES = {"hybrid": None, "bm25": 1.0, "dense": 0.0}

ENGLISH_FILE = Path(__file__).with_name("eval_english.json")
"""FacQA questions translated into English by hand, by split: the first 30 of facqa-valid.jsonl
(less -0007, whose passage does not name the person asked about) and the first 60 of
facqa-test.jsonl, each {id, question, passage_id}."""


def english_questions(split: str) -> list[tuple[str, str]]:
    """(English question, FacQA passage id) of one split of `eval_english.json`: valid or test."""
    splits = json.loads(ENGLISH_FILE.read_text(encoding="utf-8"))
    if split not in splits:
        raise ConfigError(f"facqa-en has no {split} questions, only {' and '.join(splits)}: "
                          f"pass --split {' or --split '.join(splits)}, or leave facqa-en out of --sets")
    return [(item["question"], item["passage_id"]) for item in splits[split]]


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
        if self.name == "facqa-en":
            pairs = english_questions(split)
            return pairs[:limit] if limit else pairs
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
    # Cross-lingual: English questions, Indonesian passages (FacQA valid and test, translated by hand).
    "facqa-en": EvalSet("facqa-en", "qa/facqa-passages.jsonl", "", "question", "passage_id"),
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
    index_name = "facqa" if eval_set.name == "facqa-en" else eval_set.name  # same passages, same index
    index_dir = work_dir / f"{index_name}-{settings.embedding_model.replace('/', '_').replace(':', '_')}"
    summary = build_index(settings.replace(index_dir=index_dir), articles=eval_set.articles(data_dir), progress=progress)
    if summary.rebuild_hint:  # cached with a fallback embedder that a better one now replaces
        build_index(settings.replace(index_dir=index_dir), articles=eval_set.articles(data_dir), progress=progress,
                    rebuild=True)
    return Searcher.open(index_dir)


class _RememberedQueries:
    """The searcher's embedder, each question embedded once for a whole sweep of fusion weights.

    Only for `--tune`: its latency columns then leave out the query embedding after the first weight.
    """

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.vectors: dict[str, np.ndarray] = {}

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embedder.encode_queries(missing)))
        return np.stack([self.vectors[t] for t in texts])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.embedder, name)


def run_set(searcher: Searcher, questions: list[tuple[str, str]], alphas: dict[str, float | None],
            sweep: bool = False) -> dict[str, dict]:
    results = {}
    if sweep:
        searcher.embedder = _RememberedQueries(searcher.embedder)  # type: ignore[assignment]
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
    # Every set's questions first, so a split that a set lacks stops the run before any indexing.
    questions = {name: SETS[name].questions(data_dir, split, limit) for name in sets}
    for name in sets:
        searcher = prepare(SETS[name], data_dir, work_dir, settings, progress)
        try:
            label = {"indosum": "indosum-paraphrased", "facqa-en": f"facqa-en ({split})"}.get(name, f"{name}-{split}")
            for mode, m in run_set(searcher, questions[name], alphas, sweep=tune).items():
                rows.append((f"{label} ({len(questions[name])})", mode, m))
        finally:
            searcher.close()
    return rows


# ---------------------------------------------------------------- answers

UNANSWERABLE = Path(__file__).resolve().parents[1] / "evals" / "unanswerable-indosum.jsonl"
INDOSUM_QA = Path(__file__).resolve().parents[1] / "evals" / "indosum_qa"
"""The IndoSum QA set (issue 15): answerable.jsonl and unanswerable.jsonl, split by article."""


def _answer_rows(assistant, questions: Sequence[tuple[str, str, str | None]]) -> dict[str, float]:
    """questions: (question, gold answer or "", gold article id or None); "" marks unanswerable."""
    first_quote = precise = answered = refused_answerable = refused_unanswerable = 0
    answerable = sum(1 for _, gold, _ in questions if gold)
    unanswerable = len(questions) - answerable
    latencies = []
    model_answered = 0
    assistant.ask(questions[0][0])  # warm-up
    for question, gold, gold_article in questions:
        started = time.perf_counter()
        answer = assistant.ask(question)
        latencies.append((time.perf_counter() - started) * 1000)
        model_answered += answer.mode not in ("extractive", "extractive_fallback")
        if not gold:
            refused_unanswerable += answer.refused
            continue
        if answer.refused:
            refused_answerable += 1
            continue
        answered += 1
        quotes = [c.quote.lower() for c in answer.citations]
        first_quote += bool(quotes) and gold.lower() in quotes[0]
        precise += all(gold.lower() in c.quote.lower() or c.article_id == gold_article for c in answer.citations[:1])
    ordered = sorted(latencies)
    return {
        "questions": len(questions),
        "answer_in_first_quote": first_quote / answerable if answerable else float("nan"),
        "citation_precision": precise / answered if answered else float("nan"),
        "refused_answerable": refused_answerable / answerable if answerable else float("nan"),
        "refused_unanswerable": refused_unanswerable / unanswerable if unanswerable else float("nan"),
        "model_answered": model_answered / len(questions),
        "p50_ms": statistics.median(ordered), "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
    }


def unanswerable_questions(path: Path = UNANSWERABLE, part: str = "all") -> list[tuple[str, str, None]]:
    """The hand-written unanswerable set; `part` odd (calibration) / even (report) / all."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    keep = {"odd": lambda i: i % 2 == 1, "even": lambda i: i % 2 == 0, "all": lambda i: True}[part]
    return [(r["question"], "", None) for i, r in enumerate(rows, start=1) if keep(i)]


def indosum_qa_questions(split: str, answerable: bool, folder: Path = INDOSUM_QA) -> list[tuple[str, str, str | None]]:
    """(question, gold span or "" when unanswerable, gold article id or None) of one split of
    the IndoSum QA set; [] when the set is not beside this checkout (an installed package)."""
    path = folder / ("answerable.jsonl" if answerable else "unanswerable.jsonl")
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["question"], r["answer"], r["article_id"]) if answerable else (r["question"], "", None)
            for r in rows if r["split"] == split]


def off_topic_questions(data_dir: Path, split: str) -> list[tuple[str, str, None]]:
    """TyDi-id questions of `split` (encyclopedic: "Apa kepanjangan dari GPS?") as unanswerable
    ones for the IndoSum news articles: those whose TyDi answer is in no IndoSum article
    (~80% of them), so that the news cannot hold it verbatim."""
    corpus = "\n".join(json.loads(line)["text"].lower()
                       for line in open(data_dir / "news/indosum-articles.jsonl", encoding="utf-8"))
    rows = [json.loads(line) for line in open(data_dir / f"qa/tydiqa-id-{split}.jsonl", encoding="utf-8")]
    return [(r["question"], "", None) for r in rows
            if not any(a.lower() in corpus for a in r.get("all_answers") or [r["answer"]])]


def evaluate_answers(data_dir: Path, work_dir: Path, settings: Settings, split: str = "test",
                     limit: int | None = None, progress: bool = True) -> list[tuple[str, dict[str, float]]]:
    """FacQA questions on the FacQA passages; on the IndoSum articles, the IndoSum QA set's
    answerable and unanswerable questions of `split`, the earlier unanswerable set, and
    off-topic questions (`off_topic_questions`).
    Answered as configured: extractive, or by RAG_LLM's model (`model_answered`: the share of
    answers the model wrote rather than the extractive fallback)."""
    from .answer import open_assistant

    rows = []
    facqa = prepare(SETS["facqa"], data_dir, work_dir, settings, progress)
    try:
        pairs = []
        with open(data_dir / f"qa/facqa-{split}.jsonl") as f:
            for line in f:
                record = json.loads(line)
                pairs.append((record["question"], record["answer"], record["passage_id"]))
        rows.append((f"facqa-{split} answerable",
                     _answer_rows(open_assistant(settings, searcher=facqa), pairs[:limit] if limit else pairs)))
    finally:
        facqa.close()
    indosum = prepare(SETS["indosum"], data_dir, work_dir, settings, progress)
    try:
        part = "odd" if split == "valid" else "even"
        unanswerable = unanswerable_questions(part=part)
        assistant = open_assistant(settings, searcher=indosum)
        for answerable in (True, False):
            questions = indosum_qa_questions(split, answerable)
            if questions:
                rows.append((f"indosum-qa {'answerable' if answerable else 'unanswerable'} ({split})",
                             _answer_rows(assistant, questions[:limit] if limit else questions)))
        rows.append((f"indosum unanswerable ({part})",
                     _answer_rows(assistant, unanswerable[:limit] if limit else unanswerable)))
        off_topic = off_topic_questions(data_dir, split)
        rows.append((f"off-topic (tydi-{split} on indosum)",
                     _answer_rows(assistant, off_topic[:limit] if limit else off_topic)))
    finally:
        indosum.close()
    return rows


def format_answer_table(rows: list[tuple[str, dict[str, float]]]) -> str:
    header = (f"{'set':<34} {'n':>5} {'ans in 1st quote':>16} {'cite precision':>14} {'refused (ans.)':>14} "
              f"{'refused (unans.)':>16} {'p50 ms':>7} {'p95 ms':>7}")
    lines = [header, "-" * len(header)]
    for name, m in rows:
        lines.append(f"{name:<34} {m['questions']:>5} {m['answer_in_first_quote']:>16.3f} {m['citation_precision']:>14.3f} "
                     f"{m['refused_answerable']:>14.3f} {m['refused_unanswerable']:>16.3f} {m['p50_ms']:>7.0f} {m['p95_ms']:>7.0f}")
    return "\n".join(lines)
