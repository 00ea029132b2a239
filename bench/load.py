"""Load benchmark of the chat UI: concurrent `gradio_client` users against `rag serve`.

    python -m bench.load [--users 20] [--questions-per-user 3] [--index-dir DIR]

The app runs in its own process, as users run it (`python -m rag serve`), on an index
of IndoSum articles: `--index-dir`, else the one `rag eval` caches in
.cache/eval/indosum-*, else the first `--articles` IndoSum articles indexed into
bench/out/load-index (incremental, so only the first run embeds). Every user asks
different questions (built from IndoSum titles, plus on-topic questions the articles
cannot answer) through the UI's own streaming endpoint `/chat`. Prints errors (target:
0), time to the first streamed update and to the full answer (p50/p95), throughput,
and the server's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO.parent / "shared" / "data" / "news" / "indosum-articles.jsonl"
UNANSWERABLE = REPO / "evals" / "unanswerable-indosum.jsonl"


def pick_index(index_dir: Path | None, articles: int) -> Path:
    if index_dir is not None:
        return index_dir
    cached = sorted((REPO / ".cache" / "eval").glob("indosum-*"))
    if cached and (cached[0] / "CURRENT").exists():
        return cached[0]
    from rag.indexer import build_index
    from rag.settings import Settings

    folder = REPO / "bench" / "out"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"indosum-{articles}.jsonl"
    with open(ARTICLES) as src, open(source, "w") as dst:
        for _, line in zip(range(articles), src):
            dst.write(line)
    target = folder / "load-index"
    print(f"indexing {articles} IndoSum articles into {target} ...", flush=True)
    build_index(Settings(index_dir=target, sources=(source,), embedding_model="use:multilingual-v3"), progress=True)
    return target


def questions(count: int) -> list[str]:
    """`count` different questions: about a third the articles cannot answer."""
    asked: list[str] = []
    if UNANSWERABLE.exists():
        asked += [json.loads(line)["question"] for line in UNANSWERABLE.read_text().splitlines() if line.strip()]
    asked = asked[: count // 3]
    with open(ARTICLES) as src:
        for line in src:
            if len(asked) >= count:
                break
            title = json.loads(line).get("title", "").strip()
            if title:
                asked.append(f"Apa yang diberitakan tentang {title}?")
    return asked


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(index_dir: Path, port: int, concurrency: int) -> subprocess.Popen:
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "RAG_SERVER_PORT": str(port),
           "RAG_CONCURRENCY": str(concurrency), "HF_HUB_OFFLINE": "1"}
    app = subprocess.Popen([sys.executable, "-m", "rag", "serve"], cwd=REPO, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    import socket

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise SystemExit(f"the app exited:\n{app.stdout.read() if app.stdout else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return app
        time.sleep(0.3)
    app.kill()
    raise SystemExit("the app did not start within 120 s")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions-per-user", type=int, default=3)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--articles", type=int, default=500, help="IndoSum articles to index when no index is given")
    parser.add_argument("--concurrency", type=int, default=2, help="RAG_CONCURRENCY of the app (2 cores here)")
    args = parser.parse_args()

    from gradio_client import Client

    index_dir = pick_index(args.index_dir, args.articles)
    asked = questions(args.users * args.questions_per_user + 2)
    port = free_port()
    app = start_app(index_dir, port, args.concurrency)
    url = f"http://127.0.0.1:{port}/"
    try:
        warm = Client(url, verbose=False)
        for question in asked[-2:]:  # opens the index and warms caches before timing
            warm.predict(question, "", "", "", api_name="/ask")

        first_update: list[float] = []
        full_answer: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        start_line = threading.Barrier(args.users)

        def user(number: int) -> None:
            client = Client(url, verbose=False)
            mine = asked[number * args.questions_per_user:(number + 1) * args.questions_per_user]
            start_line.wait()
            for question in mine:
                started = time.perf_counter()
                first = None
                try:
                    job = client.submit(question, [], "", "", "", "auto", api_name="/chat")
                    outputs = []
                    for output in job:
                        first = first or time.perf_counter() - started
                        outputs.append(output)
                    total = time.perf_counter() - started
                    data = outputs[-1][3] if outputs else None
                    if not data or "error" in data:
                        raise RuntimeError(f"no answer: {data}")
                except Exception as err:  # counted and reported, the run goes on
                    with lock:
                        errors.append(f"{type(err).__name__}: {err}")
                    continue
                with lock:
                    first_update.append(first or total)
                    full_answer.append(total)

        started = time.perf_counter()
        threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        peak = peak_rss_mb(app.pid)
    finally:
        app.terminate()
        app.wait(timeout=30)

    requests = args.users * args.questions_per_user
    print(f"\nchat UI load: {args.users} concurrent users x {args.questions_per_user} different questions, "
          f"index {index_dir}, RAG_CONCURRENCY={args.concurrency}")
    print("| users | requests | errors | first update p50 / p95 s | full answer p50 / p95 / max s | answers/s | server peak MB |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.users} | {requests} | {len(errors)} | {percentile(first_update, .5):.2f} / "
          f"{percentile(first_update, .95):.2f} | {percentile(full_answer, .5):.2f} / {percentile(full_answer, .95):.2f} / "
          f"{max(full_answer, default=float('nan')):.2f} | {len(full_answer) / wall:.1f} | {peak:.0f} |")
    if full_answer:
        print(f"mean full answer {statistics.mean(full_answer):.2f} s over {len(full_answer)} answers, wall {wall:.1f} s")
    for error in errors[:5]:
        print("error:", error)
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
