"""Check the unanswerable half of the IndoSum QA set (issue 15).

`evals/indosum_qa/unanswerable.jsonl` holds on-topic questions about the 3,463 IndoSum
articles (2016-08..2018-02) whose asked fact no article gives. One JSON object a line:

    {"id": "iqu-0001", "question": "...", "lang": "id|en", "kind": "siapa|kapan|...",
     "topic_article_ids": ["indosum-..."], "why": "...", "split": "train|valid|test"}

This script checks, and exits 1 on any problem:
  - the file itself: fields in that order, ids iqu-0001.. in sequence, lang, kind, a
    question ending in "?" and not repeated, 1-3 distinct topic ids, a non-empty `why`;
  - the topic articles exist in the corpus;
  - the split follows the rule shared with the answerable half: the first topic article
    id's sha1, as an integer, mod 10 is < 6 train, < 8 valid, else test (`split_for`);
  - the question is on topic: every topic article is in the top 10 BM25 hits
    (`rag.lexical.LexicalIndex` over title + text) for the question.
It prints, per question, the top 3 titles, so a reader can see what retrieval finds.

Whether the fact is really absent cannot be checked by a script; UNANSWERABLE.md says how
each question was checked by reading the top articles.

    python -m evals.indosum_qa.check_unanswerable [--articles PATH] [--set PATH] [--quiet]
        [--no-search]   # shape, corpus and split checks only (no index build, < 1 s)

The whole check takes 20-50 s the first time (Sastrawi stemming of 50,000 distinct
words) and 5-15 s later, when the stems are cached in .cache/stems-indosum.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SET = Path(__file__).resolve().parent / "unanswerable.jsonl"
_RELATIVE = Path("shared") / "data" / "news" / "indosum-articles.jsonl"
# ../shared/data beside the repo, or beside the nearest folder above it that has one
# (a git worktree sits a level deeper)
DEFAULT_ARTICLES = next((folder / _RELATIVE for folder in ROOT.parents if (folder / _RELATIVE).is_file()),
                        ROOT.parent / _RELATIVE)
FIELDS = ("id", "question", "lang", "kind", "topic_article_ids", "why", "split")
LANGS = ("id", "en")
KINDS = ("siapa", "kapan", "berapa", "di mana", "apa", "mengapa", "bagaimana")
SPLITS = ("train", "valid", "test")
TOP_TOPIC = 10
STEM_CACHE = ROOT / ".cache" / "stems-indosum.json"  # a cache (gitignored): only saves time


def split_for(article_id: str) -> str:
    """The split of a question, decided by its first topic article (shared rule)."""
    bucket = int(hashlib.sha1(article_id.encode("utf-8")).hexdigest(), 16) % 10
    return "train" if bucket < 6 else "valid" if bucket < 8 else "test"


def load_jsonl(path: Path) -> list[dict]:
    rows = []
    with Path(path).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise SystemExit(f"{path}:{n}: not JSON: {err}") from None
    return rows


def shape_problems(rows: Sequence[Mapping], article_ids: Iterable[str] | None = None) -> list[str]:
    """Problems found without searching: fields, ids, values, split rule, and (when
    `article_ids` is given) topic articles missing from the corpus."""
    known = set(article_ids) if article_ids is not None else None
    problems: list[str] = []
    seen_questions: dict[str, str] = {}
    for n, row in enumerate(rows, 1):
        rid = str(row.get("id", f"line {n}"))
        if tuple(row) != FIELDS:
            problems.append(f"{rid}: fields {tuple(row)} != {FIELDS}")
        if row.get("id") != f"iqu-{n:04d}":
            problems.append(f"{rid}: expected id iqu-{n:04d}")
        question = row.get("question")
        if not isinstance(question, str) or not question.strip().endswith("?"):
            problems.append(f"{rid}: question must be a string ending in '?'")
        else:
            key = " ".join(question.lower().split())
            if key in seen_questions:
                problems.append(f"{rid}: same question as {seen_questions[key]}")
            seen_questions.setdefault(key, rid)
        if row.get("lang") not in LANGS:
            problems.append(f"{rid}: lang must be one of {LANGS}")
        if row.get("kind") not in KINDS:
            problems.append(f"{rid}: kind must be one of {KINDS}")
        if not isinstance(row.get("why"), str) or len(row["why"].strip()) < 20:
            problems.append(f"{rid}: why must say what the articles give instead")
        topics = row.get("topic_article_ids")
        if not isinstance(topics, list) or not 1 <= len(topics) <= 3 or len(set(topics)) != len(topics) \
                or not all(isinstance(t, str) for t in topics):
            problems.append(f"{rid}: needs 1-3 distinct topic_article_ids")
            continue
        if known is not None:
            problems += [f"{rid}: topic {t} is not in the corpus" for t in topics if t not in known]
        expected = split_for(topics[0])
        if row.get("split") != expected:
            problems.append(f"{rid}: split {row.get('split')!r}, the rule gives {expected!r}")
    return problems


def search_problems(rows: Sequence[Mapping], articles: Sequence[Mapping], quiet: bool = False) -> list[str]:
    """Problems found by searching: a topic article outside the question's top 10."""
    from rag.lexical import LexicalIndex, load_stems, save_stems  # stems the corpus: only when asked

    load_stems(STEM_CACHE)
    index = LexicalIndex.build([f"{a['title']}\n{a['text']}" for a in articles], [a["id"] for a in articles])
    STEM_CACHE.parent.mkdir(parents=True, exist_ok=True)
    save_stems(STEM_CACHE)
    titles = {a["id"]: a["title"] for a in articles}
    problems: list[str] = []
    for row in rows:
        top = [index.ids[doc] for doc, _ in index.search(row["question"], TOP_TOPIC)]
        missing = [t for t in row.get("topic_article_ids") or [] if t not in top]
        problems += [f"{row['id']}: topic {t} is not in the top {TOP_TOPIC} for its question" for t in missing]
        if not quiet:
            print(f"{row['id']} [{row['lang']} {row['kind']} {row['split']}] {row['question']}")
            for rank, doc_id in enumerate(top[:3], 1):
                print(f"    {rank}. {titles[doc_id]}")
            print(f"    topics {'in top ' + str(TOP_TOPIC) if not missing else 'MISSING: ' + ', '.join(missing)}")
    return problems


def counts(rows: Sequence[Mapping]) -> dict[str, dict[str, int]]:
    """Questions by kind, lang and split (for UNANSWERABLE.md)."""
    out: dict[str, dict[str, int]] = {}
    for field in ("kind", "lang", "split"):
        tally: dict[str, int] = {}
        for row in rows:
            tally[str(row.get(field))] = tally.get(str(row.get(field)), 0) + 1
        out[field] = dict(sorted(tally.items(), key=lambda kv: -kv[1]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.indosum_qa.check_unanswerable",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help=f"default {DEFAULT_SET.name}")
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES,
                        help=f"default {DEFAULT_ARTICLES}")
    parser.add_argument("--no-search", action="store_true", help="skip the BM25 on-topic check")
    parser.add_argument("--quiet", action="store_true", help="print only problems and the summary")
    args = parser.parse_args(argv)
    if not args.articles.exists():
        print(f"no articles at {args.articles}: pass --articles PATH", file=sys.stderr)
        return 2
    rows = load_jsonl(args.set)
    articles = load_jsonl(args.articles)
    problems = shape_problems(rows, [a["id"] for a in articles])
    if not args.no_search and not any("fields" in p or "topic_article_ids" in p for p in problems):
        problems += search_problems(rows, articles, quiet=args.quiet)
    for problem in problems:
        print(f"PROBLEM {problem}")
    tallies = counts(rows)
    print(f"\n{len(rows)} questions in {args.set}; " + "; ".join(
        f"{field}: " + ", ".join(f"{k} {v}" for k, v in tally.items()) for field, tally in tallies.items()))
    print(f"{len(problems)} problems" + (" (search skipped)" if args.no_search else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
