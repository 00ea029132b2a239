"""Answer quality of the local models against the extractive default, on valid questions.

    python -m evals.llm_answers [--questions 30] [--unanswerable 15] [--models gemma3-270m,qwen2.5-coder-1.5b]
                                [--work-dir .cache/eval-llm] [--facqa-index DIR] [--indosum-index DIR]
                                [--log answers.jsonl] [--budget MINUTES]

Every system answers through rag's own `open_assistant` (the prompt, citation repair,
support checks and refusal of `rag ask`; `RAG_LLM_TIMEOUT` and the other settings from
the environment), the systems taking turns on each question so that their times share
the same machine load, and the sets taking turns so that a run cut short by `--budget`
(on a busy machine a 1.5B model takes minutes an answer) still covers each of them. Three sets, all valid split (for checking, never for fitting):
the first `--questions` FacQA valid questions on the FacQA passages (the whole passage
set, as `rag eval` indexes it, or `--facqa-index`), and `--questions` answerable plus
`--unanswerable` unanswerable questions of the IndoSum QA set (evals/indosum_qa, spread
over the valid split) on an index of the valid split's articles plus the first `--distractors`
other IndoSum articles (or `--indosum-index`, e.g. the full IndoSum eval index).

Columns, per set and system:
  in text       the gold answer (case-insensitive) in the answer's text
  in 1st cite   the gold answer in a checked quote (any span) of the first citation
  1st cite gold the first cited article is the gold one (FacQA: or a passage with the
                same text), over the answers that were not refused
  refused       the share refused (answerable sets: wrongly; unanswerable: rightly)
  paths         how each answer was made: `gate` refused before any model was asked
                (the extractive answerability gate, which every system shares), `model`
                the model's own text survived the checks (or it refused with the
                sentinel, `model-refused`), `fallback:REASON` the extractive answer
                replaced it (llm_unverified, llm_timeout, ...)
  p50 / p95 s   seconds per answer; first token p50 for the models

`--log` writes one JSON line per answer (question, system, path, text, first citation).
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.indosum_qa import default_articles, load_answerable, load_unanswerable
from rag.answer import Answer, Assistant, open_assistant
from rag.articles import Article, article_from_record
from rag.evaluate import SETS, prepare
from rag.indexer import build_index
from rag.llm import prepare_process
from rag.search import Searcher
from rag.settings import Settings


@dataclass(frozen=True)
class Item:
    question: str
    answer: str  # "" for an unanswerable question
    article_id: str | None


@dataclass
class Result:
    item: Item
    answer: Answer
    seconds: float
    first_token_s: float | None


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _spread(items: list[Any], count: int) -> list[Any]:
    """`count` items evenly spaced over `items` (all of them if there are fewer)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def facqa_items(data_dir: Path, count: int) -> list[Item]:
    with open(data_dir / "qa" / "facqa-valid.jsonl") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return [Item(r["question"], r["answer"], r["passage_id"]) for r in records[:count]]


def indosum_items(answerable: int, unanswerable: int) -> tuple[list[Item], list[Item], set[str]]:
    """Answerable and unanswerable valid questions, and the articles of the valid split."""
    every, every_unanswerable = load_answerable(split="valid"), load_unanswerable(split="valid")
    asked = _spread(sorted(every, key=lambda q: q.id), answerable)
    unasked = _spread(sorted(every_unanswerable, key=lambda q: q.id), unanswerable)
    # All the valid split's articles, however many questions are asked: one index for every run.
    articles = {q.article_id for q in every} | {a for q in every_unanswerable for a in q.topic_article_ids}
    return ([Item(q.question, q.answer, q.article_id) for q in asked],
            [Item(q.question, "", None) for q in unasked], articles)


def indosum_index(settings: Settings, folder: Path, wanted: set[str], distractors: int) -> Searcher:
    """An index of the `wanted` IndoSum articles plus the first `distractors` others."""
    chosen: list[Article] = []
    others = 0
    with open(default_articles()) as handle:
        for line in handle:
            record = json.loads(line)
            if record["id"] in wanted or others < distractors:
                others += record["id"] not in wanted
                chosen.append(article_from_record(record, default_id=record["id"]))
    missing = wanted - {a.id for a in chosen}
    if missing:
        raise SystemExit(f"IndoSum articles not found in {default_articles()}: {sorted(missing)[:3]} ...")
    build_index(settings.replace(index_dir=folder), articles=chosen, progress=False, yes=True)  # a scratch index
    return Searcher.open(folder)


def facqa_twins(data_dir: Path) -> dict[str, str]:
    """FacQA passage id -> its text, squashed: passages that differ only in spacing are one."""
    with open(data_dir / "qa" / "facqa-passages.jsonl") as handle:
        return {r["id"]: _squash(r["text"]) for r in (json.loads(line) for line in handle if line.strip())}


def path_of(answer: Answer) -> str:
    if answer.mode == "extractive":
        return "gate" if answer.refused else "extractive"
    if answer.mode == "extractive_fallback":
        return f"fallback:{answer.fallback_reason}"
    return "model-refused" if answer.refused else "model"


def ask(assistant: Assistant, item: Item) -> Result:
    started = time.perf_counter()
    first = None
    answer = None
    for event in assistant.stream(item.question):
        if isinstance(event, Answer):
            answer = event
        elif first is None and event.strip():
            first = time.perf_counter() - started
    assert answer is not None  # stream always ends with the Answer
    seconds = time.perf_counter() - started
    if answer.mode == "extractive" and not answer.refused and assistant.llm is not None:
        raise AssertionError("an LLM assistant answered extractively without saying so")
    return Result(item, answer, seconds, first)


def row(results: list[Result], same_text: dict[str, str]) -> dict[str, Any]:
    answerable = [r for r in results if r.item.answer]
    answered = [r for r in answerable if not r.answer.refused]

    def in_first_cite(r: Result) -> bool:
        if not r.answer.citations:
            return False
        spans = r.answer.citations[0].spans or ()
        quotes = [s.quote for s in spans] or [r.answer.citations[0].quote]
        return any(_squash(r.item.answer) in _squash(q) for q in quotes)

    def first_gold(r: Result) -> bool:
        if not r.answer.citations:
            return False
        cited = r.answer.citations[0].article_id
        gold = r.item.article_id or ""
        return cited == gold or (cited in same_text and same_text.get(cited) == same_text.get(gold))

    firsts = [r.first_token_s for r in results  # the answers a model was asked for
              if r.first_token_s is not None and path_of(r.answer) not in ("gate", "extractive")]
    seconds = [r.seconds for r in results]
    return {
        "n": len(results),
        "in_text": sum(_squash(r.item.answer) in _squash(r.answer.text) for r in answerable),
        "in_first_cite": sum(in_first_cite(r) for r in answerable),
        "first_cite_gold": sum(first_gold(r) for r in answered),
        "answered": len(answered),
        "refused": sum(r.answer.refused for r in results),
        "paths": dict(collections.Counter(path_of(r.answer) for r in results)),
        "p50_s": statistics.median(seconds), "p95_s": _percentile(seconds, 0.95),
        "first_p50_s": statistics.median(firsts) if firsts else None,
    }


def format_table(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    lines = ["| set | answers by | n | gold in text | gold in 1st cite | 1st cite gold (of answered) | refused | "
             "paths | p50 / p95 s | first token p50 s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, system, m in rows:
        n = m["n"]
        unanswerable = "unanswerable" in name
        paths = ", ".join(f"{k} {v}" for k, v in sorted(m["paths"].items(), key=lambda kv: -kv[1]))
        first = f"{m['first_p50_s']:.1f}" if m["first_p50_s"] is not None and system != "extractive" else "–"
        if unanswerable:
            cells = ["–", "–", "–"]
        else:
            cells = [f"{m['in_text']}/{n}", f"{m['in_first_cite']}/{n}", f"{m['first_cite_gold']}/{m['answered']}"]
        lines.append(f"| {name} | {system} | {n} | {' | '.join(cells)} | {m['refused']}/{n} | {paths} | "
                     f"{m['p50_s']:.1f} / {m['p95_s']:.1f} | {first} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=30, help="FacQA and IndoSum answerable questions (each)")
    parser.add_argument("--unanswerable", type=int, default=15, help="IndoSum unanswerable questions")
    parser.add_argument("--models", default="gemma3-270m,qwen2.5-coder-1.5b",
                        help="`rag models` names or .gguf paths, beside the extractive answers")
    parser.add_argument("--sets", default="facqa,indosum")
    parser.add_argument("--work-dir", type=Path, default=Path(".cache/eval-llm"), help="where missing indexes are built")
    parser.add_argument("--facqa-index", type=Path, help="an existing FacQA passages index folder")
    parser.add_argument("--indosum-index", type=Path, help="an existing index holding the IndoSum articles")
    parser.add_argument("--distractors", type=int, default=250, help="other IndoSum articles in a built index")
    parser.add_argument("--data-dir", type=Path, default=default_articles().parents[1])
    parser.add_argument("--log", type=Path, help="one JSON line per answer")
    parser.add_argument("--budget", type=float, help="minutes: ask no new question after this (the table covers "
                        "the questions asked; the sets take turns)")
    args = parser.parse_args(argv)

    prepare_process("llamacpp:")  # OMP_WAIT_POLICY=PASSIVE before torch or llama.cpp loads OpenMP
    settings = Settings.from_env()
    systems = ["extractive"] + [m.strip() for m in args.models.split(",") if m.strip()]
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    print(f"load at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs); "
          f"embedder {settings.embedding_model}; RAG_LLM_TIMEOUT {settings.llm_timeout_s:g} s, "
          f"RAG_LLM_THREADS {settings.llm_threads or 'default'}, RAG_LLM_MAX_TOKENS {settings.llm_max_tokens}",
          flush=True)

    plans: list[tuple[str, Searcher, list[Item]]] = []
    if "facqa" in sets:
        searcher = (Searcher.open(args.facqa_index) if args.facqa_index else
                    prepare(SETS["facqa"], args.data_dir, args.work_dir, settings, progress=False))
        plans.append((f"FacQA valid (first {args.questions})", searcher, facqa_items(args.data_dir, args.questions)))
    if "indosum" in sets:
        answerable, unanswerable, articles = indosum_items(args.questions, args.unanswerable)
        searcher = (Searcher.open(args.indosum_index) if args.indosum_index else
                    indosum_index(settings, args.work_dir / "indosum-qa-valid", articles, args.distractors))
        plans.append(("IndoSum QA valid, answerable", searcher, answerable))
        plans.append(("IndoSum QA valid, unanswerable", searcher, unanswerable))
    same_text = facqa_twins(args.data_dir) if "facqa" in sets else {}

    log = args.log.open("w") if args.log else None
    deadline = time.monotonic() + args.budget * 60 if args.budget else None
    results: dict[tuple[str, str], list[Result]] = {(name, s): [] for name, _, _ in plans for s in systems}
    try:
        assistants = {}
        for name, searcher, _ in plans:
            for system in systems:
                spec = "none" if system == "extractive" else f"llamacpp:{system}"
                assistant = assistants[name, system] = open_assistant(settings.replace(llm=spec), searcher=searcher)
                if assistant.llm is not None:
                    assistant.llm.load()  # loaded once per process, before the clock runs
        assistants[plans[0][0], "extractive"].ask(plans[0][2][0].question)  # warm-up: embedder, stems
        # The sets take turns, question by question, so that a run cut short by --budget covers all.
        queue = [pair for turn in itertools.zip_longest(*[[(n, i) for i in items] for n, _, items in plans])
                 for pair in turn if pair is not None]
        for done, (name, item) in enumerate(queue, start=1):
            if deadline is not None and time.monotonic() > deadline:
                print(f"--budget {args.budget:g} min reached after {done - 1} of {len(queue)} questions",
                      file=sys.stderr, flush=True)
                break
            for system in systems:
                result = ask(assistants[name, system], item)
                results[name, system].append(result)
                if log:
                    first = result.answer.citations[0] if result.answer.citations else None
                    log.write(json.dumps({"set": name, "system": system, "question": item.question,
                                          "gold": item.answer, "gold_article": item.article_id,
                                          "path": path_of(result.answer), "seconds": round(result.seconds, 2),
                                          "first_token_s": result.first_token_s, "text": result.answer.text,
                                          "first_cited": first.article_id if first else None,
                                          "first_quote": first.quote if first else None},
                                         ensure_ascii=False) + "\n")
                    log.flush()
            print(f"{done}/{len(queue)} {name}: " + ", ".join(
                f"{s} {results[name, s][-1].seconds:.1f}s {path_of(results[name, s][-1].answer)}" for s in systems)
                + f" (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    finally:
        if log:
            log.close()
        for searcher in {id(s): s for _, s, _ in plans}.values():
            searcher.close()
    rows = [(name, system, row(results[name, system], same_text))
            for name, _, _ in plans for system in systems if results[name, system]]
    print(format_table(rows))
    print(f"load at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
