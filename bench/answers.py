"""Answer latency of the extractive default: `Assistant.ask` in one process, warm.

    python -m bench.answers [--questions 60] [--index-dir DIR] [--repeat 1]

On the IndoSum index that `rag eval` caches in .cache/eval/indosum-* (else `--index-dir`,
else the first `--articles` IndoSum articles indexed into bench/out/load-index), the
questions of `bench.load` (IndoSum titles, and on-topic questions the articles cannot
answer) are asked after five warm-up questions. Prints p50 / p95 / max in ms (target:
p95 <= 300 ms) and how many were refused.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.load import pick_index, questions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--articles", type=int, default=500, help="IndoSum articles to index when no index is given")
    parser.add_argument("--repeat", type=int, default=1, help="ask every question this many times")
    args = parser.parse_args(argv)

    from rag.answer import Assistant
    from rag.search import Searcher

    searcher = Searcher.open(pick_index(args.index_dir, args.articles))
    try:
        assistant = Assistant(searcher)
        asked = questions(args.questions)
        for question in asked[:5]:
            assistant.ask(question)
        timings, refused = [], 0
        for _ in range(args.repeat):
            for question in asked:
                started = time.perf_counter()
                refused += assistant.ask(question).refused
                timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(0.95 * len(timings)))]
        print(f"{'questions':>9} {'refused':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
        print(f"{len(timings):>9} {refused:>7} {statistics.median(timings):>7.0f} {p95:>7.0f} {timings[-1]:>7.0f}")
    finally:
        searcher.close()


if __name__ == "__main__":
    main()
