"""The IndoSum QA set: factoid questions over the IndoSum news articles
(`../shared/data/news/indosum-articles.jsonl`), the project's own evaluation data.

`answerable.jsonl` holds questions whose answer span occurs verbatim in one article;
`unanswerable.jsonl` (written separately) holds on-topic questions the corpus cannot
answer. Both are split by article with `split_for`. `python -m evals.indosum_qa.check`
validates them; `load_answerable` / `load_unanswerable` read them for `rag eval --answers`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

HERE = Path(__file__).resolve().parent
ANSWERABLE = HERE / "answerable.jsonl"
UNANSWERABLE = HERE / "unanswerable.jsonl"

KINDS = ("siapa", "kapan", "berapa", "di mana", "apa", "mengapa", "bagaimana")
LANGS = ("id", "en")
SPLITS = ("train", "valid", "test")

Split = Literal["train", "valid", "test"]


def default_articles() -> Path:
    """`../shared/data/news/indosum-articles.jsonl` beside the repo (as the other evals use it),
    or beside the nearest folder above it that has one (a git worktree sits a level deeper)."""
    relative = Path("shared") / "data" / "news" / "indosum-articles.jsonl"
    repo = HERE.parents[1]
    for folder in repo.parents:
        if (folder / relative).is_file():
            return folder / relative
    return repo.parent / relative


def split_for(article_id: str) -> Split:
    """The split of every question about `article_id`: 60 % train, 20 % valid, 20 % test."""
    bucket = int(hashlib.sha1(article_id.encode("utf-8")).hexdigest(), 16) % 10
    if bucket < 6:
        return "train"
    if bucket < 8:
        return "valid"
    return "test"


@dataclass(frozen=True)
class AnswerableQuestion:
    id: str
    article_id: str
    question: str
    answer: str  # verbatim span of the article's text
    kind: str
    lang: str
    paraphrased: bool
    split: Split


@dataclass(frozen=True)
class UnanswerableQuestion:
    id: str
    question: str
    lang: str
    kind: str
    topic_article_ids: tuple[str, ...]
    why: str
    split: Split


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_answerable(path: Path = ANSWERABLE, split: str | None = None) -> list[AnswerableQuestion]:
    """The answerable questions of `path` (all, or one split). Run the checker for validation."""
    items = [AnswerableQuestion(**row) for row in _read_jsonl(path)]
    return [item for item in items if split is None or item.split == split]


def load_unanswerable(path: Path = UNANSWERABLE, split: str | None = None) -> list[UnanswerableQuestion]:
    """The unanswerable questions of `path` (all, or one split)."""
    items = [UnanswerableQuestion(**{**row, "topic_article_ids": tuple(row["topic_article_ids"])})
             for row in _read_jsonl(path)]
    return [item for item in items if split is None or item.split == split]
