"""What the asked-slot feature (rag.slots) tells on the IndoSum QA set, train and valid only
(never test): within the gold article's sentences, for every question that asks a count or
a time,

  - slot top-1: the sentence holding the gold span ranks first by `slot_match` alone
    (ties broken by article order), beside word coverage alone (share of the
    question's stems in the sentence) and coverage + slot_match;
  - candidate = gold: the best candidate of the gold sentence contains the gold span
    (`contains`) or overlaps it (`overlaps`); `any` when some candidate overlaps it;

and for the unanswerable questions that ask a count or a time, over their topic articles'
sentences: how often no sentence reaches a slot_match threshold (`no match`), against how
often the gold sentence of an answerable question falls below it (answerable lost).
Also counted: gold sentences that start with a dateline, and gold time spans that hold a
relative day word `resolve_dates` resolves.

    python -m evals.slots [--articles PATH] [--splits train valid]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from evals.indosum_qa import default_articles, load_answerable, load_unanswerable
from rag.chunks import sentence_spans
from rag.dates import DEFAULT_TZ
from rag.lexical import QUESTION_WORDS, analyze
from rag.quotes import dateline_end, resolve_dates
from rag.slots import asked_slot, match_slot

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6)


def _coverage(question_terms: set[str], sentence: str) -> float:
    return len(question_terms & set(analyze(sentence))) / len(question_terms) if question_terms else 0.0


def _top(scores: list[float]) -> int:
    """Index of the best score, the first on ties (article order)."""
    return max(range(len(scores)), key=lambda i: (scores[i], -i))


def measure(articles: dict[str, dict], split: str) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    gold_scores: dict[str, list[float]] = defaultdict(list)
    for item in load_answerable(split=split):
        slot = asked_slot(item.question)
        text = articles[item.article_id]["text"]
        spans = sentence_spans(text)
        occurrences = [i for i in range(len(text)) if text.startswith(item.answer, i)]
        gold = [k for k, (s, e) in enumerate(spans) if any(s <= o and o + len(item.answer) <= e for o in occurrences)]
        row = rows[slot.kind if slot else "no slot"]
        row["questions"] += 1
        if slot is None or not gold:
            continue
        sentences = [text[s:e] for s, e in spans]
        matches = [match_slot(slot, sentence) for sentence in sentences]
        terms = set(analyze(item.question)) - QUESTION_WORDS
        coverage = [_coverage(terms, sentence) for sentence in sentences]
        slot_only = [m.slot_match for m in matches]
        row["slot top-1"] += _top(slot_only) in gold
        row["coverage top-1"] += _top(coverage) in gold
        row["coverage + slot top-1"] += _top([c + m for c, m in zip(coverage, slot_only)]) in gold
        best_gold = max(gold, key=lambda k: slot_only[k])
        gold_scores[slot.kind].append(slot_only[best_gold])
        start = min(o for o in occurrences if spans[best_gold][0] <= o < spans[best_gold][1]) - spans[best_gold][0]
        end = start + len(item.answer)
        found = matches[best_gold]
        candidate = found.candidate
        row["candidate contains gold"] += candidate is not None and candidate.start <= start and end <= candidate.end
        row["candidate overlaps gold"] += candidate is not None and candidate.start < end and start < candidate.end
        row["any candidate overlaps"] += any(c.start < end and start < c.end for c in found.candidates)
        sentence = sentences[best_gold]
        cut = dateline_end(sentence)
        row["gold sentence has dateline"] += cut > 0
        row["dateline cut keeps gold"] += cut > 0 and cut <= start
        if slot.kind == "time":
            published = datetime.fromisoformat(articles[item.article_id]["date"].replace("Z", "+00:00"))
            notes = resolve_dates(sentence, published)
            row["gold time resolved"] += any(n.start < end and start < n.end for n in notes)
    for kind, scores in gold_scores.items():
        for t in THRESHOLDS:
            rows[kind][f"answerable lost @{t}"] = sum(s < t for s in scores)
    for unanswerable in load_unanswerable(split=split):
        slot = asked_slot(unanswerable.question)
        if slot is None:
            continue
        row = rows[f"unanswerable {slot.kind}"]
        row["questions"] += 1
        best = 0.0
        for article_id in unanswerable.topic_article_ids:
            text = articles[article_id]["text"]
            best = max([best, *(match_slot(slot, text[s:e]).slot_match for s, e in sentence_spans(text))])
        for t in THRESHOLDS:
            row[f"no match @{t}"] += best < t
    return rows


_BRACKETED = re.compile(r"\(\d{1,2}/\d{1,2}(?:/\d{2,4})?\)")


def weekdays(articles: dict[str, dict]) -> dict[str, float]:
    """The bare-weekday rule checked on the corpus: every "Sabtu (13/8)" of every article, its
    brackets removed, resolved as a bare "Sabtu" against the article's date; agreed when the
    result is the bracketed date. (Articles, not questions: no split is involved.)"""
    counts = {"weekday with date": 0.0, "bare rule agrees": 0.0, "weekday matches its date": 0.0,
              "date within 6 days": 0.0, "... and bare rule agrees": 0.0}
    for record in articles.values():
        published = datetime.fromisoformat(record["date"].replace("Z", "+00:00"))
        for s, e in sentence_spans(record["text"]):
            sentence = record["text"][s:e]
            for note in resolve_dates(sentence, published):
                if not _BRACKETED.search(note.phrase):
                    continue
                counts["weekday with date"] += 1
                counts["weekday matches its date"] += note.day.weekday() == _weekday_number(note.phrase)
                bare = sentence[:note.start] + _BRACKETED.sub("", note.phrase) + sentence[note.end:]
                again = [n for n in resolve_dates(bare, published) if n.start == note.start]
                agrees = bool(again) and again[0].day == note.day
                near = abs((note.day - published.astimezone(DEFAULT_TZ).date()).days) <= 6
                counts["bare rule agrees"] += agrees
                counts["date within 6 days"] += near
                counts["... and bare rule agrees"] += near and agrees
    return counts


def _weekday_number(phrase: str) -> int:
    word = phrase.split()[0].split("(")[0].lower().replace("'", "").replace("’", "")
    return ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu").index(word) if word in (
        "senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu") else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=default_articles())
    parser.add_argument("--splits", nargs="+", default=["train", "valid"], choices=["train", "valid"])
    args = parser.parse_args()
    with args.articles.open(encoding="utf-8") as handle:
        articles = {r["id"]: r for r in map(json.loads, handle)}
    for split in args.splits:
        rows = measure(articles, split)
        for kind in ("count", "time", "no slot", "unanswerable count", "unanswerable time"):
            row = rows.get(kind)
            if not row:
                continue
            n = row.pop("questions")
            print(f"{split} {kind} ({n:.0f} questions)")
            for name, value in row.items():
                print(f"  {name:<28} {value:>4.0f}  {value / n:.3f}" if n else f"  {name} {value}")
    counts = weekdays(articles)
    n = counts.pop("weekday with date")
    print(f"corpus: {n:.0f} weekdays with a bracketed date ('Sabtu (13/8)')")
    for name, value in counts.items():
        print(f"  {name:<28} {value:>4.0f}  {value / n:.3f}")


if __name__ == "__main__":
    main()
