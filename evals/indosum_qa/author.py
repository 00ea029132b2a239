"""The tool the answerable questions were written with (kept so the set can be extended).

    python -m evals.indosum_qa.author show START COUNT [--chars 1600]
        print articles START .. START+COUNT of a fixed random order of the corpus (seed 15),
        skipping articles that already have questions, to be read by a person;
    python -m evals.indosum_qa.author add BATCH_FILE
        append the questions of BATCH_FILE, one a line:
        `POSITION | kind | lang | paraphrased (1/0) | question | answer`
        (POSITION from `show`). Every line is checked first (article, verbatim answer, kind,
        lang); nothing is written when any line is wrong. Ids and splits are assigned here.

The questions themselves were written by reading the articles, not generated.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from evals.indosum_qa import ANSWERABLE, KINDS, LANGS, default_articles, split_for

SEED = 15


def ordered_articles(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        articles = [json.loads(line) for line in handle if line.strip()]
    random.Random(SEED).shuffle(articles)
    return articles


def existing() -> list[dict]:
    if not ANSWERABLE.is_file():
        return []
    with ANSWERABLE.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def show(articles: list[dict], start: int, count: int, chars: int) -> None:
    used = {row["article_id"] for row in existing()}
    for position in range(start, min(start + count, len(articles))):
        article = articles[position]
        if article["id"] in used:
            continue
        text = article["text"]
        print(f"### {position} | {article['source']} | {article['category']} | {article['date'][:10]} | {article['title']}")
        print(text[:chars] + (" [...]" if len(text) > chars else ""))
        print()


def add(articles: list[dict], batch: Path) -> int:
    rows = existing()
    next_number = max((int(row["id"].split("-")[1]) for row in rows), default=0) + 1
    questions = {row["question"] for row in rows}
    new: list[dict] = []
    problems: list[str] = []
    for number, line in enumerate(batch.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 6:
            problems.append(f"line {number}: {len(parts)} fields, expected 6: {line}")
            continue
        position, kind, lang, paraphrased, question, answer = parts
        article = articles[int(position)]
        if kind not in KINDS or lang not in LANGS or paraphrased not in ("0", "1"):
            problems.append(f"line {number}: bad kind/lang/paraphrased: {line}")
        if answer not in article["text"]:
            problems.append(f"line {number}: answer {answer!r} not verbatim in {position} ({article['id']})")
        if question in questions:
            problems.append(f"line {number}: duplicate question")
        questions.add(question)
        new.append({"id": f"iqa-{next_number + len(new):04d}", "article_id": article["id"], "question": question,
                    "answer": answer, "kind": kind, "lang": lang, "paraphrased": paraphrased == "1",
                    "split": split_for(article["id"])})
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print("nothing written", file=sys.stderr)
        return 1
    with ANSWERABLE.open("a", encoding="utf-8") as handle:
        for row in new:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"added {len(new)}; {len(rows) + len(new)} in all")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=default_articles())
    commands = parser.add_subparsers(dest="command", required=True)
    show_parser = commands.add_parser("show")
    show_parser.add_argument("start", type=int)
    show_parser.add_argument("count", type=int)
    show_parser.add_argument("--chars", type=int, default=1600)
    add_parser = commands.add_parser("add")
    add_parser.add_argument("batch", type=Path)
    args = parser.parse_args(argv)
    articles = ordered_articles(args.articles)
    if args.command == "show":
        show(articles, args.start, args.count, args.chars)
        return 0
    return add(articles, args.batch)


if __name__ == "__main__":
    sys.exit(main())
