"""The `rag` command line: `rag index` builds the index, `rag search` queries it.

Settings come from `RAG_*` environment variables (see README), flags override them.
Errors print one line on stderr and exit non-zero; `--json` output goes to stdout alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .errors import ConfigError, RagError
from .settings import Settings

log = logging.getLogger("rag")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    for noisy in ("chromadb", "httpx", "sentence_transformers", "urllib3", "huggingface_hub", "trafilatura", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Ask questions about news articles, with citations.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    index = sub.add_parser("index", help="build or update the index from article files",
                           description="Index articles (.txt, .md, .jsonl, .html) into a Chroma index. Incremental: "
                           "only new or changed articles are embedded; articles whose files are gone are removed.")
    index.add_argument("--source", action="append", type=Path, metavar="PATH",
                       help="article folder or file (repeatable; default: RAG_SOURCES or seeds/)")
    index.add_argument("--index-dir", type=Path, help="index folder (default: RAG_INDEX_DIR or index/)")
    index.add_argument("--rebuild", action="store_true",
                       help="build a fresh index beside the old one and swap it in atomically")
    index.add_argument("--strict", action="store_true", help="exit with status 4 when any input was skipped")
    index.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    index.add_argument("--no-progress", action="store_true", help="no progress bar")
    index.set_defaults(func=cmd_index)

    search = sub.add_parser("search", help="search the index",
                            description="Find the articles that best match QUERY (hybrid lexical + dense search). "
                            "A relative time in the query ('kemarin', 'last week') narrows the dates; a named "
                            "month or year ('Agustus 2022') favours articles from then.")
    search.add_argument("query", help="question or keywords, Indonesian or English")
    _add_query_args(search, k_help="number of articles to return (default 5)")
    search.add_argument("--json", action="store_true", help="print hits as a JSON list")
    search.set_defaults(func=cmd_search)

    ask = sub.add_parser("ask", help="answer a question from the articles, with citations",
                         description="Answer QUESTION from the indexed articles. Every sentence cites its source [n]; "
                         "when the articles do not hold the answer, says so instead of guessing.")
    ask.add_argument("question", help="question in Indonesian or English")
    _add_query_args(ask, k_help="articles to read (default 5)")
    ask.add_argument("--json", action="store_true", help="print {answer, citations, refused} as JSON")
    ask.set_defaults(func=cmd_ask)

    serve = sub.add_parser("serve", help="start the chat UI (the same as `python app.py`)",
                           description="Serve the Gradio chat UI on the index. Listens on 127.0.0.1:7860 unless "
                           "RAG_SERVER_NAME/RAG_SERVER_PORT say otherwise; beyond loopback it needs RAG_AUTH=user:password.")
    serve.add_argument("--index-dir", type=Path, help="index folder (default: RAG_INDEX_DIR or index/)")
    serve.add_argument("--host", dest="server_name", help="address to listen on (default: RAG_SERVER_NAME or 127.0.0.1)")
    serve.add_argument("--port", dest="server_port", type=int, help="port (default: RAG_SERVER_PORT or 7860)")
    serve.set_defaults(func=cmd_serve)

    evaluate = sub.add_parser("eval", help="measure retrieval quality on ../shared/data",
                              description="Recall, MRR and nDCG of hybrid search against BM25 alone and dense alone, "
                              "on FacQA, TyDi-id and IndoSum known-item (paraphrased summaries).")
    evaluate.add_argument("--data-dir", type=Path, default=Path("../shared/data"), help="default ../shared/data")
    evaluate.add_argument("--work-dir", type=Path, default=Path(".cache/eval"),
                          help="where the evaluation indexes are kept between runs (default .cache/eval)")
    evaluate.add_argument("--sets", default="facqa,facqa-en,tydi,indosum",
                          help="comma-separated: facqa, facqa-en (English questions), tydi, indosum")
    evaluate.add_argument("--split", default="test", choices=["train", "valid", "test"], help="question split (default test)")
    evaluate.add_argument("--limit", type=int, help="first N questions of each set")
    evaluate.add_argument("--tune", action="store_true", help="sweep the fusion weight alpha (use with --split valid)")
    evaluate.add_argument("--answers", action="store_true",
                          help="evaluate answers (quotes, citations, refusals) instead of retrieval")
    evaluate.add_argument("--json", action="store_true", help="print the numbers as JSON")
    evaluate.set_defaults(func=cmd_eval)
    return parser


def _add_query_args(parser: argparse.ArgumentParser, k_help: str) -> None:
    """What `search` and `ask` share: how many articles, filters, and which index."""
    parser.add_argument("-k", type=int, default=5, help=k_help)
    parser.add_argument("--index-dir", type=Path, help="index folder (default: RAG_INDEX_DIR or index/)")
    parser.add_argument("--since", type=_date_arg, metavar="DATE", help="published on or after DATE (e.g. 2022-08-01)")
    parser.add_argument("--until", type=_date_arg, metavar="DATE", help="published before DATE")
    parser.add_argument("--source", dest="outlet", metavar="NAME", help="only this outlet (e.g. ANTARA, kumparan)")
    parser.add_argument("--author", metavar="NAME", help="only articles whose author contains NAME")
    parser.add_argument("--as-of", type=_date_arg, metavar="DATE",
                        help="reference date for 'kemarin', 'last week' in the query (default: now)")


def _date_arg(value: str):
    from .dates import parse_published

    parsed = parse_published(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (try 2022-08-13 or '13 Agustus 2022')")
    return parsed


def _filters(args: argparse.Namespace):
    from .search import Filters

    return Filters(since=args.since, until=args.until, source=args.outlet, author=args.author)


def cmd_index(args: argparse.Namespace) -> int:
    from .indexer import build_index

    settings = Settings.from_env(index_dir=args.index_dir, sources=tuple(args.source) if args.source else None)
    summary = build_index(settings, rebuild=args.rebuild, progress=not args.no_progress and not args.json)
    if args.json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
    else:
        _print_summary(summary)
    if args.strict and summary.skipped_files:
        print(f"error: {len(summary.skipped_files)} input(s) skipped (--strict)", file=sys.stderr)
        return 4
    return 0


def _print_summary(summary) -> None:
    out = sys.stderr
    print(f"indexed into {summary.index_dir}/ in {summary.seconds:.1f}s with {summary.embedder}", file=out)
    if summary.fallback_reason:
        print(f"  note: offline fallback embedder in use ({summary.fallback_reason})", file=out)
    if summary.rebuild_hint:
        print(f"  note: {summary.rebuild_hint}", file=out)
    print(f"  articles: {summary.added} added, {summary.updated} updated, {summary.removed} removed, "
          f"{summary.unchanged} unchanged, {len(summary.skipped_files)} skipped", file=out)
    print(f"  chunks: {summary.chunks} in the index, {summary.embedded} embedded now", file=out)
    for skipped in summary.skipped_files:
        print(f"  skipped {skipped.path}: {skipped.reason}", file=out)


def cmd_search(args: argparse.Namespace) -> int:
    from .search import Searcher
    from .store import open_index

    settings = Settings.from_env(index_dir=args.index_dir)
    searcher = Searcher.open(open_index(settings))
    try:
        hits = searcher.search(args.query, k=args.k, filters=_filters(args), as_of=args.as_of)
    finally:
        searcher.close()
    if args.json:
        print(json.dumps([hit.to_json() for hit in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no matching articles")
    for rank, hit in enumerate(hits, start=1):
        date = (hit.published or "")[:10]
        outlets = ", ".join(hit.outlets) or hit.source or "unknown source"
        print(f"{rank}. {hit.title} ({outlets}, {date}) score {hit.score:.3f}")
        print(f"   {_snippet(hit.text)}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .webapp import serve

    settings = Settings.from_env(index_dir=args.index_dir, server_name=args.server_name, server_port=args.server_port)
    serve(settings)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from .answer import MAX_QUESTION_CHARS, open_assistant

    question = args.question.strip()
    if not question:
        raise ConfigError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise ConfigError(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    settings = Settings.from_env(index_dir=args.index_dir)
    assistant = open_assistant(settings, k=args.k)
    try:
        answer = assistant.ask(question, filters=_filters(args), as_of=args.as_of)
    finally:
        assistant.searcher.close()
    if args.json:
        citations = [{"n": c.n, "article_id": c.article_id, "title": c.title, "source": c.source,
                      "published": c.published, "url": c.url, "author": c.author, "quote": c.quote,
                      "start": c.start, "end": c.end} for c in answer.citations]
        print(json.dumps({"answer": answer.text, "citations": citations, "refused": answer.refused,
                          "notice": answer.notice}, ensure_ascii=False, indent=2))
        return 0
    if answer.notice:
        print(f"({answer.notice})")
    print(answer.text)
    for c in answer.citations:
        date = (c.published or "")[:10]
        print(f"[{c.n}] {c.title} — {c.source or 'unknown source'}, {date}{' — ' + c.url if c.url else ''}")
        print(f'    "{c.quote}"')
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import SETS, evaluate, format_table

    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        raise ConfigError(f"unknown evaluation set(s) {unknown}; choose from {sorted(SETS)}")
    if not args.data_dir.is_dir():
        raise ConfigError(f"{args.data_dir} not found: pass --data-dir")
    settings = Settings.from_env()
    if args.answers:
        from .evaluate import evaluate_answers, format_answer_table

        answer_rows = evaluate_answers(args.data_dir, args.work_dir, settings, split=args.split, limit=args.limit,
                                       progress=not args.json)
        print(json.dumps(dict(answer_rows), indent=2) if args.json else format_answer_table(answer_rows))
        return 0
    rows = evaluate(args.data_dir, args.work_dir, settings, sets, split=args.split, limit=args.limit,
                    tune=args.tune, progress=not args.json)
    import resource

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        print(json.dumps({"rows": [{"set": name, "mode": mode, **m} for name, mode, m in rows], "peak_rss_mb": peak_mb}, indent=2))
    else:
        print(format_table(rows))
        print(f"peak memory (RSS) of this process: {peak_mb:.0f} MB")
    return 0


def _snippet(text: str, width: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + " ..."
