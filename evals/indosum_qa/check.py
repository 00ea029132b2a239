"""Validate the IndoSum QA files; exit 1 on any problem, then print a summary table.

    python -m evals.indosum_qa.check [--articles PATH] [--answerable PATH] [--unanswerable PATH]

Answerable lines: every field present with a valid value, ids unique (`iqa-NNNN`), the
article exists, the answer occurs verbatim (same characters, same case) in its text, at
most two questions per article, and the split follows `split_for(article_id)`.
Unanswerable lines (if the file exists) are checked for shape only: fields, values, ids,
topic articles exist, split by the first topic article. Whether the corpus really cannot
answer them is `check_unanswerable.py`'s job (a search over the corpus).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from evals.indosum_qa import ANSWERABLE, KINDS, LANGS, SPLITS, UNANSWERABLE, default_articles, split_for

MAX_PER_ARTICLE = 2

ANSWERABLE_FIELDS = {"id": str, "article_id": str, "question": str, "answer": str, "kind": str,
                     "lang": str, "paraphrased": bool, "split": str}
UNANSWERABLE_FIELDS = {"id": str, "question": str, "lang": str, "kind": str, "topic_article_ids": list,
                       "why": str, "split": str}


def load_articles(path: Path) -> dict[str, dict]:
    """Article id -> the article's JSON object (id, title, date, source, url, category, text)."""
    articles: dict[str, dict] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                articles[row["id"]] = row
    return articles


def _parse(path: Path, fields: dict[str, type], id_pattern: str) -> tuple[list[dict], list[str]]:
    """The rows that parse with the right fields and types, and a problem per bad line."""
    rows: list[dict] = []
    problems: list[str] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            where = f"{path.name}:{number}"
            if not line.strip():
                problems.append(f"{where}: empty line")
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"{where}: not JSON ({error})")
                continue
            if not isinstance(row, dict):
                problems.append(f"{where}: not a JSON object")
                continue
            if set(row) != set(fields):
                missing, extra = sorted(set(fields) - set(row)), sorted(set(row) - set(fields))
                problems.append(f"{where}: fields wrong (missing {missing}, unexpected {extra})")
                continue
            bad = [name for name, kind in fields.items() if not isinstance(row[name], kind)]
            if bad:
                problems.append(f"{where}: wrong type for {bad}")
                continue
            if not re.fullmatch(id_pattern, row["id"]):
                problems.append(f"{where}: id {row['id']!r} does not match {id_pattern}")
            if row["id"] in seen:
                problems.append(f"{where}: duplicate id {row['id']!r}")
            seen.add(row["id"])
            if not row["question"].strip():
                problems.append(f"{where}: empty question")
            if row["kind"] not in KINDS:
                problems.append(f"{where}: kind {row['kind']!r} not one of {KINDS}")
            if row["lang"] not in LANGS:
                problems.append(f"{where}: lang {row['lang']!r} not one of {LANGS}")
            if row["split"] not in SPLITS:
                problems.append(f"{where}: split {row['split']!r} not one of {SPLITS}")
            row["_where"] = where
            rows.append(row)
    return rows, problems


def check_answerable(path: Path, articles: dict[str, dict]) -> tuple[list[dict], list[str]]:
    rows, problems = _parse(path, ANSWERABLE_FIELDS, r"iqa-\d{4}")
    per_article: Counter[str] = Counter()
    questions: set[str] = set()
    for row in rows:
        where, article_id = row["_where"], row["article_id"]
        if row["question"] in questions:
            problems.append(f"{where}: the same question twice")
        questions.add(row["question"])
        answer = row["answer"]
        if not answer.strip() or answer != answer.strip():
            problems.append(f"{where}: answer empty or with surrounding whitespace: {answer!r}")
        article = articles.get(article_id)
        if article is None:
            problems.append(f"{where}: article {article_id!r} not in the articles file")
            continue
        if answer not in article["text"]:
            problems.append(f"{where}: answer {answer!r} not verbatim in {article_id}")
        if row["split"] != split_for(article_id):
            problems.append(f"{where}: split {row['split']!r}, the rule gives {split_for(article_id)!r}")
        per_article[article_id] += 1
    for article_id, count in per_article.items():
        if count > MAX_PER_ARTICLE:
            problems.append(f"{path.name}: {count} questions about {article_id} (at most {MAX_PER_ARTICLE})")
    return rows, problems


def check_unanswerable(path: Path, articles: dict[str, dict]) -> tuple[list[dict], list[str]]:
    rows, problems = _parse(path, UNANSWERABLE_FIELDS, r"iqu-\d{4}")
    for row in rows:
        where, topics = row["_where"], row["topic_article_ids"]
        if not topics or not all(isinstance(topic, str) for topic in topics):
            problems.append(f"{where}: topic_article_ids must be a non-empty list of ids")
            continue
        missing = [topic for topic in topics if topic not in articles]
        if missing:
            problems.append(f"{where}: topic articles not in the articles file: {missing}")
        if row["split"] != split_for(topics[0]):
            problems.append(f"{where}: split {row['split']!r}, the rule on {topics[0]} gives {split_for(topics[0])!r}")
        if not row["why"].strip():
            problems.append(f"{where}: empty why")
    return rows, problems


def summarise(rows: list[dict], title: str, columns: tuple[str, ...]) -> str:
    """A Markdown table: one block of rows per column, count and share."""
    lines = [f"{title}: {len(rows)} questions", "", "| field | value | count | share |", "|---|---|---:|---:|"]
    for column in columns:
        counts = Counter(str(row[column]).lower() for row in rows)
        for value, count in sorted(counts.items(), key=lambda item: -item[1]):
            lines.append(f"| {column} | {value} | {count} | {count / max(len(rows), 1):.0%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=default_articles())
    parser.add_argument("--answerable", type=Path, default=ANSWERABLE)
    parser.add_argument("--unanswerable", type=Path, default=UNANSWERABLE)
    args = parser.parse_args(argv)
    if not args.articles.is_file():
        print(f"articles file not found: {args.articles} (give --articles PATH)", file=sys.stderr)
        return 1
    if not args.answerable.is_file():
        print(f"answerable file not found: {args.answerable}", file=sys.stderr)
        return 1
    articles = load_articles(args.articles)
    rows, problems = check_answerable(args.answerable, articles)
    for row in rows:  # the article's outlet and section, for the summary only
        article = articles.get(row["article_id"], {})
        row["source"], row["category"] = article.get("source", "?"), article.get("category", "?")
    print(summarise(rows, "answerable", ("kind", "lang", "paraphrased", "split", "source", "category")))
    print(f"\n{len({row['article_id'] for row in rows})} articles")
    if args.unanswerable.is_file():
        unanswerable, more = check_unanswerable(args.unanswerable, articles)
        problems += more
        print()
        print(summarise(unanswerable, "unanswerable (shape only)", ("kind", "lang", "split")))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problems", file=sys.stderr)
        return 1
    print("\nok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
