"""Speed of the local models (`RAG_LLM=llamacpp:NAME`) with the real prompt, in one process.

    python -m bench.llm [--questions 12] [--models gemma3-270m,qwen2.5-coder-1.5b] [--threads N]

On an index of the first `--articles` IndoSum articles (built once into bench/out/llm-index
with the offline embedder, or `--index-dir`), questions about their titles are answered through `Assistant.stream` with each installed model (5 sources,
each source's best chunk, as `open_assistant` sets up a `llamacpp:` model), after one
warm-up question. Reported per model: prompt tokens (median), prompt processing and
generation tokens/s as llama.cpp timed them, time to the first streamed token and to the
full answer (p50 / p95), and how many answers kept a checked citation (the rest fell back
to the extractive answer). Models that are not installed are skipped with a note.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--models", default="gemma3-270m,qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, help="RAG_LLM_THREADS (default: llama.cpp's choice)")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--articles", type=int, default=300, help="IndoSum articles to index when no index is given")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)

    from langchain_core.callbacks import BaseCallbackHandler

    from rag.answer import Answer, Assistant
    from rag.llm import load_chat_model
    from rag.search import Searcher
    from rag.settings import Settings

    settings = Settings.from_env()
    timings: list[dict[str, Any]] = []

    class Timings(BaseCallbackHandler):
        def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
            found = getattr(getattr(chunk, "message", None), "response_metadata", {}).get("timings")
            if found:
                timings.append(found)

    index_dir, asked = _index_and_questions(args.index_dir, args.data_dir, args.articles, args.questions + 1)
    searcher = Searcher.open(index_dir)
    print(f"load: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} CPUs, threads {args.threads or 'default'}, "
          f"{len(asked) - 1} questions after 1 warm-up, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'PASSIVE')}")
    print(f"{'model':<20} {'prompt tok':>10} {'prompt tok/s':>12} {'gen tok/s':>9} {'first p50':>9} "
          f"{'first p95':>9} {'answer p50':>10} {'answer p95':>10} {'cited':>6} {'RSS MB':>7}")
    try:
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            try:
                model = load_chat_model(f"llamacpp:{name}", models_dir=settings.models_dir, llm_threads=args.threads,
                                        llm_context=settings.llm_context, timeout_s=args.timeout,
                                        max_tokens=settings.llm_max_tokens)
            except Exception as err:  # not installed: say so and go on
                print(f"{name:<20} skipped: {err}")
                continue
            assert model is not None
            model.callbacks = [Timings()]
            assistant = Assistant(searcher, llm=model, min_support=0.0, llm_name=f"llamacpp:{name}",
                                  llm_source_radius=0, llm_timeout_s=args.timeout)
            first_s, total_s, cited = [], [], 0
            timings.clear()
            for i, question in enumerate(asked):
                started = time.perf_counter()
                first = None
                answer = None
                for event in assistant.stream(question):
                    if isinstance(event, Answer):
                        answer = event
                    elif event.strip() and first is None:
                        first = time.perf_counter() - started
                if i == 0:  # warm-up: the system prompt enters the cache
                    timings.clear()
                    continue
                total_s.append(time.perf_counter() - started)
                first_s.append(first if first is not None else total_s[-1])
                cited += bool(answer is not None and answer.mode == f"llamacpp:{name}" and answer.citations)
            prompt_n = statistics.median(t["prompt_n"] for t in timings) if timings else 0
            prompt_rate = statistics.median(t["prompt_per_second"] for t in timings) if timings else 0
            gen_rate = statistics.median(t["predicted_per_second"] for t in timings) if timings else 0
            import resource

            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{name:<20} {prompt_n:>10.0f} {prompt_rate:>12.1f} {gen_rate:>9.1f} "
                  f"{statistics.median(first_s):>8.1f}s {_percentile(first_s, 0.95):>8.1f}s "
                  f"{statistics.median(total_s):>9.1f}s {_percentile(total_s, 0.95):>9.1f}s "
                  f"{cited:>3}/{len(total_s):<2} {rss:>7.0f}", flush=True)
    finally:
        searcher.close()
    print(f"load at the end: {os.getloadavg()[0]:.1f}")


def _index_and_questions(index_dir: Path | None, data_dir: Path, articles: int,
                         count: int) -> tuple[Path, list[str]]:
    """The index (built when missing) and `count` questions about its articles' titles."""
    import json

    from rag.indexer import build_index
    from rag.settings import Settings

    source = data_dir / "news" / "indosum-articles.jsonl"
    lines = []
    with open(source) as src:
        for _, line in zip(range(articles), src):
            lines.append(line)
    titles = [json.loads(line).get("title", "").strip() for line in lines]
    asked = [f"Apa yang diberitakan tentang {t}?" for t in titles if t][::max(1, articles // count)][:count]
    if index_dir is None:
        folder = REPO / "bench" / "out"
        folder.mkdir(parents=True, exist_ok=True)
        subset = folder / f"indosum-{articles}.jsonl"
        subset.write_text("".join(lines))
        index_dir = folder / "llm-index"
        if not (index_dir / "CURRENT").exists():
            print(f"indexing {articles} IndoSum articles into {index_dir} ...", flush=True)
        build_index(Settings(index_dir=index_dir, sources=(subset,), embedding_model="use:multilingual-v3"),
                    progress=False)
    return index_dir, asked


if __name__ == "__main__":
    main()
