"""Scale benchmark: ingest, disk, memory and hybrid query latency up to 250,000 chunks.

    python -m bench.scale [--levels 10000,50000,250000] [--modes embedded,server] [--queries 200]

The load is synthetic but made of real news: the IndoSum evaluation index (21,257 chunks
of 3,463 articles, in .cache/eval/indosum-*; build it with `rag eval --sets indosum`) is
replicated until the level is reached. Replica r > 0 of an article gets a new id, dates
shifted by r days, words of each chunk swapped in place (same length, so chunk offsets
stay right) and its vectors moved by Gaussian noise and re-normalised (cosine to the
original ~0.97), so nothing is re-embedded. Chunks are streamed into the store in batches
of 2,000: no step holds the corpus' vectors in memory.

For each mode and level, a fresh process (so its peak memory is its own):
  ingest    chunks/s of streaming the chunks into a new generation (Chroma add)
  tables    seconds to build the search tables (lexical index, chunk table, vectors);
            embedded: by the indexer (`publish`, with the bookkeeping); server: by a reader, into its cache, on first open
            (with the stem cache of the IndoSum index, as a long-running indexer has it)
  disk      the generation folder (embedded), or the server's data + the reader's cache
  memory    peak RSS of the process; server mode adds the `chroma run` server's peak
  query     p50/p95 of `Searcher.search(q, k=5)` (hybrid, query embedding included),
            over article titles and chunk openings; `embed` is the query embedding alone;
            `cpu p95` is this process's CPU time per query (all threads), which depends
            less than wall time on what else runs (`load` is the 1-minute load average;
            in server mode the server's CPU is not in it). The queries run in 3 rounds;
            the round with the lowest p95 is reported, the worst round's p95 beside it

Server mode starts its own `chroma run` on a free port for each level. Growth per
100k chunks is the slope between the two largest levels.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BASE_GLOB = "indosum-*"
BATCH = 2000
ROUNDS = 3  # timed rounds over the queries; the machine is shared, so the best round is reported
NOISE = 0.25


def find_base(eval_dir: Path) -> Path:
    for folder in sorted(eval_dir.glob(BASE_GLOB)):
        current = folder / "CURRENT"
        if current.is_file() and (folder / current.read_text().strip() / "vectors.npy").is_file():
            return folder / current.read_text().strip()
    sys.exit(f"no IndoSum index in {eval_dir}/{BASE_GLOB}: build it with `rag eval --sets indosum` (or pass --eval-dir)")


class Base:
    """The real chunks: vectors (memory-mapped), texts and metadata read from Chroma's
    SQLite file in read-only, immutable mode (the evaluation index is not ours to touch)."""

    def __init__(self, generation: Path) -> None:
        self.manifest = json.loads((generation / "manifest.json").read_text())
        self.articles = json.loads((generation / "articles.json").read_text())
        table = json.loads((generation / "chunks.json").read_text())
        self.ids: list[str] = table["ids"]
        self.vectors = np.load(generation / "vectors.npy", mmap_mode="r")
        db = sqlite3.connect(f"file:{generation / 'chroma.sqlite3'}?mode=ro&immutable=1", uri=True)
        rows = db.execute("SELECT e.embedding_id, m.key, m.string_value, m.int_value, m.float_value, m.bool_value "
                          "FROM embeddings e JOIN embedding_metadata m ON m.id = e.id")
        metas: dict[str, dict] = {}
        for chunk_id, key, text, integer, number, flag in rows:
            value = next((v for v in (text, integer, number, flag) if v is not None), None)
            metas.setdefault(chunk_id, {})[key] = value
        self.documents = {cid: meta.pop("chroma:document") for cid, meta in metas.items()}
        self.metadatas = metas

    def __len__(self) -> int:
        return len(self.ids)


def perturb(text: str, rng: random.Random, swaps: int = 4) -> str:
    """Swap a few words in place; the length stays the same."""
    parts = re.split(r"(\s+)", text)
    words = [i for i in range(0, len(parts), 2) if parts[i]]
    for _ in range(min(swaps, len(words) // 2)):
        a, b = rng.sample(words, 2)
        parts[a], parts[b] = parts[b], parts[a]
    return "".join(parts)


def synthetic(base: Base, total: int, seed: int = 0) -> Iterator[tuple[list[str], np.ndarray, list[str], list[dict]]]:
    """Batches of (ids, vectors, documents, metadatas) until `total` chunks."""
    rng = np.random.default_rng(seed)
    made = 0
    replica = 0
    while made < total:
        for start in range(0, len(base), BATCH):
            ids = base.ids[start:min(start + BATCH, start + total - made)]
            if not ids:
                break
            vectors = np.asarray(base.vectors[start:start + len(ids)], dtype=np.float32)
            documents, metadatas = [], []
            if replica:
                vectors = vectors + rng.normal(0, NOISE / np.sqrt(vectors.shape[1]), vectors.shape).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            for cid in ids:
                meta = dict(base.metadatas[cid])
                text = base.documents[cid]
                if replica:
                    words = random.Random(f"{cid}~{replica}")
                    text = perturb(text, words)
                    meta["article_id"] = f"{meta['article_id']}~{replica}"
                    meta["article_hash"] = f"{meta['article_hash']}~{replica}"
                    meta["title"] = perturb(meta.get("title", ""), words, swaps=1)
                    if "published_ts" in meta:
                        meta["published_ts"] += 86400 * replica
                documents.append(text)
                metadatas.append(meta)
            yield [f"{m['article_id']}#{m['chunk_index']}" for m in metadatas], vectors, documents, metadatas
            made += len(ids)
            if made >= total:
                return
        replica += 1


def queries(base: Base, count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    chunk_ids = rng.sample(base.ids, count)
    out = []
    for n, cid in enumerate(chunk_ids):
        meta = base.metadatas[cid]
        out.append(meta.get("title", "") if n % 2 == 0 else " ".join(base.documents[cid].split()[:10]))
    return out


def disk_mb(*paths: Path) -> float:
    return sum(f.stat().st_size for p in paths if p.exists() for f in p.rglob("*") if f.is_file()) / 2**20


def run_level(mode: str, level: int, work: Path, url: str | None, eval_dir: Path, query_count: int) -> dict:
    """One mode at one level, in this (fresh) process."""
    from rag.embeddings import load_embedder
    from rag.search import Searcher
    from rag.store import IndexDir, Manifest, ServerIndex

    base_dir = find_base(eval_dir)
    base = Base(base_dir)
    index = IndexDir(work / "index") if mode == "embedded" else \
        ServerIndex(url, collection="bench", cache_dir=work / "cache")
    result: dict = {"mode": mode, "chunks": level}
    with index.writer_lock():
        generation = index.new_generation(copy_of=None)
        records: dict[str, dict] = {}
        started = time.perf_counter()
        for ids, vectors, documents, metadatas in synthetic(base, level):
            generation.add(ids, vectors, documents, metadatas)
            for meta in metadatas:
                record = records.get(meta["article_id"])
                if record is None:
                    original = base.articles.get(meta["article_id"].split("~")[0], {})
                    record = records[meta["article_id"]] = {**original, "hash": meta["article_hash"], "chunks": 0}
                    record.pop("dup_group", None)
                record["chunks"] += 1
        result["ingest_s"] = time.perf_counter() - started
        result["chunks_per_s"] = level / result["ingest_s"]
        result["articles"] = len(records)
        assert generation.count() == level, (generation.count(), level)
        # The stem cache a running indexer keeps; without it the first build stems the
        # vocabulary (~30 s for IndoSum's), whatever the corpus size.
        stems = base_dir.parent / "stems.json"
        if stems.is_file():
            generation.tables.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(stems, generation.tables.parent / "stems.json")
        manifest = Manifest(**{**base.manifest, "articles": len(records), "chunks": level,
                               "built_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())})
        started = time.perf_counter()
        index.publish(generation, manifest, records)  # a folder index writes the search tables here
        tables_s = time.perf_counter() - started
    del base.vectors
    embedder = load_embedder(manifest.embedder["id"])
    started = time.perf_counter()
    searcher = Searcher.open(index, embedder=embedder)
    result["tables_s"] = tables_s + time.perf_counter() - started
    asked = queries(base, query_count)
    del base
    for q in asked[:5]:  # warm-up
        searcher.search(q, k=5)
    rounds, embed_times = [], []
    for _ in range(ROUNDS):
        times, cpu_times = [], []
        for q in asked:
            started, cpu_started = time.perf_counter(), time.process_time()
            searcher.search(q, k=5)
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu_started)
            started = time.perf_counter()
            embedder.encode_queries([q])
            embed_times.append(time.perf_counter() - started)
        rounds.append([float(np.percentile(times, 50) * 1000), float(np.percentile(times, 95) * 1000),
                       float(np.percentile(cpu_times, 95) * 1000)])
    searcher.close()
    best = min(rounds, key=lambda r: r[1])
    result["p50_ms"], result["p95_ms"], result["cpu_p95_ms"] = best
    result["p95_worst_ms"] = max(r[1] for r in rounds)
    result["embed_p50_ms"] = float(np.percentile(embed_times, 50) * 1000)
    result["load_avg"] = os.getloadavg()[0]  # the machine is shared: wall times depend on it
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["disk_mb"] = disk_mb(work / "index") if mode == "embedded" else disk_mb(work / "cache")
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(data: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = _free_port()
    server = subprocess.Popen([binary, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).close()
            return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("`chroma run` did not start")


def measure(mode: str, level: int, args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"rag-scale-{mode}-{level}-", dir=args.work_dir))
    server, url = start_server(work / "server") if mode == "server" else (None, None)
    try:
        cmd = [sys.executable, "-m", "bench.scale", "--child", mode, str(level), str(work), url or "",
               "--eval-dir", str(args.eval_dir), "--queries", str(args.queries)]
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"})
        if done.returncode != 0:
            sys.exit(f"{mode} {level}: {done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if server is not None:
            result["server_peak_mb"] = _peak_mb(server.pid)
            result["disk_mb"] += disk_mb(work / "server")
        return result
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def format_table(rows: list[dict]) -> str:
    lines = ["| mode | chunks | articles | ingest chunks/s | tables s | disk MB | peak RSS MB (client + server) "
             "| query p50 ms | query p95 ms (worst round) | cpu p95 ms | embed p50 ms | load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        memory = f"{r['peak_rss_mb']:.0f}" + (f" + {r['server_peak_mb']:.0f}" if "server_peak_mb" in r else "")
        lines.append(f"| {r['mode']} | {r['chunks']:,} | {r['articles']:,} | {r['chunks_per_s']:,.0f} | "
                     f"{r['tables_s']:.1f} | {r['disk_mb']:,.0f} | {memory} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} ({_num(r, 'p95_worst_ms')}) | "
                     f"{_num(r, 'cpu_p95_ms')} | {r['embed_p50_ms']:.1f} | {_num(r, 'load_avg')} |")
    growth = []
    for mode in dict.fromkeys(r["mode"] for r in rows):
        mine = [r for r in rows if r["mode"] == mode]
        if len(mine) >= 2:
            a, b = mine[-2], mine[-1]
            per = 100_000 / (b["chunks"] - a["chunks"])
            memory = lambda r: r["peak_rss_mb"] + r.get("server_peak_mb", 0)  # noqa: E731
            growth.append(f"{mode}: per 100k chunks {per * (b['disk_mb'] - a['disk_mb']):+,.0f} MB disk, "
                          f"{per * (memory(b) - memory(a)):+,.0f} MB peak memory, "
                          f"{per * (b['p95_ms'] - a['p95_ms']):+.1f} ms query p95 "
                          f"(between {a['chunks']:,} and {b['chunks']:,})")
    return "\n".join(lines + [""] + growth)


def _num(row: dict, key: str) -> str:
    return f"{row[key]:.1f}" if key in row else "–"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="10000,50000,250000", help="chunk counts, comma-separated")
    parser.add_argument("--modes", default="embedded,server", help="embedded, server or both")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per level (default 200)")
    parser.add_argument("--eval-dir", type=Path, default=REPO / ".cache" / "eval",
                        help="where `rag eval` keeps its indexes (default .cache/eval)")
    parser.add_argument("--work-dir", type=Path, default=None, help="scratch space (default: the system's temp)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--keep", action="store_true", help="keep the built indexes")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "LEVEL", "WORK", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, level, work, url = args.child
        print(json.dumps(run_level(mode, int(level), Path(work), url or None, args.eval_dir, args.queries)))
        return 0
    find_base(args.eval_dir)
    rows = []
    for level in [int(n) for n in args.levels.split(",")]:  # smaller levels of every mode first
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            rows.append(measure(mode, level, args))
            print(f"{mode} {level:,}: {json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in rows[-1].items()})}",
                  file=sys.stderr, flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=2))
    rows.sort(key=lambda r: (r["mode"], r["chunks"]))
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
