"""Refit the sentence scorer of rag/evidence.py and choose the refusal threshold, into
rag/answer_model.json (rank weights, answer weights and bias, min_support).

Training data: FacQA and TyDi-id TRAIN questions (all 2,495 of FacQA, 2,500 of TyDi-id at
random, seed 0) on their eval indexes (`rag eval` builds them in .cache/eval). Each question is asked
  - as it is: the top 5 hits, usually including the gold passage (answerable);
  - with the gold passage and its near-duplicates left out of the hits (the top 10
    without them, first 5): still on topic, but the answer is not there;
  - (at fit time) as it is, with the sentences that hold the answer taken out: the
    article is there, the fact is not, as in a question about a detail the news left out.
Candidate sentences come from `Assistant.candidates` and features from
`sentence_features`, the code the assistant runs. A sentence is labelled by whether it
contains a gold answer. The rank weights: listwise logistic regression (softmax over a
question's sentences) on the answerable questions; the answer weights: logistic regression on
each question's best-ranked sentence, answerable or not. The threshold is chosen on FacQA
VALID: the answer probability under which --max-refused of its questions fall. The
numbers printed for valid (and for the odd, calibration half of
evals/unanswerable-indosum.jsonl when dumped) are what `rag eval --answers` would report,
computed from the dumps, except that the assistant also quotes a best sentence that lacks what
is asked together with a neighbour that has it (`Assistant._with_neighbour`), which adds about
1.5 points of first quotes on FacQA valid. Test splits are never read.

    python -m evals.fit_answers dump                     # candidates -> .cache/answer-fit/ (~20 min, 2 cores)
    python -m evals.fit_answers fit                      # writes rag/answer_model.json (~1 min)

`dump` needs the eval indexes of facqa and tydi (`rag eval --sets facqa,tydi` builds them).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import date
from pathlib import Path

import numpy as np

from rag.answer import Assistant
from rag.evidence import FEATURES, MODEL_FILE, Question, answer_probability, question_language, sentence_features
from rag.search import Searcher

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
INDEXES = {"facqa": ROOT / ".cache/eval/facqa-intfloat_multilingual-e5-small",
           "tydi": ROOT / ".cache/eval/tydi-intfloat_multilingual-e5-small"}
INDOSUM = ROOT / ".cache/eval/indosum-intfloat_multilingual-e5-small"
QUESTIONS = {"facqa": "qa/facqa-{split}.jsonl", "tydi": "qa/tydiqa-id-{split}.jsonl"}
DUMPS = ROOT / ".cache" / "answer-fit"  # --dumps
K = 5


def _questions(name: str, split: str, limit: int | None) -> list[dict]:
    rows = [json.loads(line) for line in open(DATA / QUESTIONS[name].format(split=split))]
    if limit and len(rows) > limit:
        rows = random.Random(0).sample(rows, limit)
    return rows


def _records(assistant: Assistant, row: dict, hits: list) -> list[dict]:
    """The answerable record (top K hits) and the unanswerable one (top K without the gold
    passage); their sentences are embedded once."""
    gold = row["passage_id"]
    others = [h for h in hits if h.article_id != gold and gold not in h.duplicates][:K]
    union = list({h.article_id: h for h in hits[:K] + others}.values())
    found, dense = assistant.candidates(row["question"], union) if union else ([], np.zeros(0))
    question = Question.parse(row["question"], lambda t: 0.0)
    records = []
    for chosen, negative in ((hits[:K], False), (others, True)):
        rank = {h.article_id: i for i, h in enumerate(chosen, start=1)}
        top = chosen[0].score or 1.0 if chosen else 1.0
        records.append({
            "question": row["question"], "answers": row.get("all_answers") or [row["answer"]], "gold": gold,
            "negative": negative, "idf": {t: assistant.searcher.lexical.idf(t) for t in question.weights},
            "candidates": [{"rank": rank[c.hit.article_id], "retrieval": c.hit.score / top, "article": c.hit.article_id,
                            "gold_article": c.hit.article_id == gold or gold in c.hit.duplicates,
                            "text": c.text, "window": c.window, "dense": float(d)}
                           for c, d in zip(found, dense) if c.hit.article_id in rank],
        })
    return records


def dump(folder: Path, train_limit: int, splits: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, index in INDEXES.items():
        searcher = Searcher.open(index)
        assistant = Assistant(searcher)
        try:
            for split in splits:
                limit = train_limit if split == "train" else None
                path = folder / f"{name}-{split}.jsonl"
                with open(path, "w") as out:
                    for row in _questions(name, split, limit):
                        for record in _records(assistant, row, searcher.search(row["question"], k=2 * K)):
                            out.write(json.dumps(record, ensure_ascii=False) + "\n")
                print(f"wrote {path}", file=sys.stderr)
        finally:
            searcher.close()


def dump_unanswerable(folder: Path) -> None:
    """The calibration half (odd lines) of evals/unanswerable-indosum.jsonl on the IndoSum index."""
    from rag.evaluate import unanswerable_questions

    searcher = Searcher.open(INDOSUM)
    assistant = Assistant(searcher)
    try:
        with open(folder / "unanswerable-odd.jsonl", "w") as out:
            for question, _, _ in unanswerable_questions(part="odd"):
                row = {"question": question, "answer": "\0", "passage_id": ""}
                record = _records(assistant, row, searcher.search(question, k=K))[0]
                out.write(json.dumps(dict(record, negative=True), ensure_ascii=False) + "\n")
    finally:
        searcher.close()


def load(folder: Path, name: str, split: str) -> list[dict]:
    return [json.loads(line) for line in open(folder / f"{name}-{split}.jsonl")]


def without_answer(record: dict) -> dict | None:
    """The answerable record with every sentence that holds the answer taken out (also
    from its neighbours' windows): the article is still there and on topic, the fact is
    not, like a question about a detail the news left out."""
    answers = [a.lower() for a in record["answers"]]
    holds = [any(a in c["text"].lower() for a in answers) for c in record["candidates"]]
    if record["negative"] or not any(holds) or all(holds):
        return None
    removed = [c["text"] for c, h in zip(record["candidates"], holds) if h]
    kept = []
    for c, h in zip(record["candidates"], holds):
        if not h:
            window = c["window"]
            for text in removed:
                window = window.replace(text, "")
            kept.append(dict(c, window=window))
    return dict(record, negative=True, candidates=kept)


def featurize(record: dict) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (sentence holds a gold answer) of one record's candidates."""
    # The dumped corpora are Indonesian: an English question is asked across languages, as at run time.
    question = Question.parse(record["question"], lambda t: record["idf"].get(t, 0.0),
                              cross_lingual=question_language(record["question"]) != "id")
    candidates = record["candidates"]
    if not candidates:
        return np.zeros((0, len(FEATURES)), dtype=np.float32), np.zeros(0, dtype=bool)
    best = max(c["dense"] for c in candidates)
    x = np.array([sentence_features(question, c["text"], c["window"], c["retrieval"], c["rank"], c["dense"], best)
                  for c in candidates], dtype=np.float32)
    y = np.array([any(a.lower() in c["text"].lower() for a in record["answers"]) for c in candidates])
    return x, y


def fit_ranker(data: list[tuple[np.ndarray, np.ndarray, bool]], l2: float = 1.0) -> np.ndarray:
    """Listwise logistic ranking (softmax over a question's sentences, likelihood of the
    sentences that hold the answer), on the answerable questions with both kinds of sentence."""
    from scipy.optimize import minimize

    groups = [(x, y) for x, y, negative in data if not negative and y.any() and not y.all()]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = l2 * w @ w, 2 * l2 * w
        for x, y in groups:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            hit = p[y].sum()
            total -= np.log(hit)
            grad -= (np.where(y, p, 0) / hit - p) @ x
        return total, grad

    return minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B").x


def fit_answerable(data: list[tuple[np.ndarray, np.ndarray, bool]], ranker: np.ndarray, c: float = 1.0):
    """Logistic regression on the best-ranked sentence: was the question asked with its gold passage?"""
    from sklearn.linear_model import LogisticRegression

    rows = [(x[np.argmax(x @ ranker)], not negative) for x, _, negative in data if len(x)]
    model = LogisticRegression(C=c, max_iter=2000).fit(np.array([r[0] for r in rows]), [r[1] for r in rows])
    return model.coef_[0], float(model.intercept_[0])


def top_sentences(data, ranker, weights, bias) -> list[tuple[int, float]]:
    """Per record: index of the best-ranked sentence (-1: none) and its answer probability."""
    out = []
    for x, _, _ in data:
        if not len(x):
            out.append((-1, 0.0))
            continue
        best = int(np.argmax(x @ ranker))
        out.append((best, float(answer_probability(x[best], weights, bias))))
    return out


def simulate(records, data, ranker, weights, bias, threshold: float) -> dict[str, float]:
    """The numbers `rag eval --answers` reports, from the dumped candidates: the first
    quote is the best-ranked sentence, refused when its answer probability < threshold."""
    first = precise = answered = refused_pos = refused_neg = pos = neg = 0
    for record, (x, y, negative), (best, p) in zip(records, data, top_sentences(data, ranker, weights, bias)):
        refused = best < 0 or p < threshold
        if negative:
            neg += 1
            refused_neg += refused
            continue
        pos += 1
        if refused:
            refused_pos += 1
            continue
        answered += 1
        first += bool(y[best])
        precise += bool(y[best] or record["candidates"][best]["gold_article"])
    return {"first_quote": first / max(pos, 1), "precision": precise / max(answered, 1),
            "refused_ans": refused_pos / max(pos, 1), "refused_unans": refused_neg / max(neg, 1)}


FITTED_ON = ("listwise logistic ranking and logistic regression on 2,495 FacQA and 2,500 TyDi-id train questions "
             "(seed 0), each asked as it is, without its gold passage, and without its answer sentences; "
             "min_support refuses {refused:.0%} of FacQA valid answerable questions")


def write_model(path: Path, rank_weights: dict[str, float], answer_weights: dict[str, float], answer_bias: float,
                min_support: float, fitted_on: str, fitted_at: str) -> None:
    """The scorer as rag/evidence.py reads it (`load_scorer`): feature names, weights, bias,
    threshold, and what it was fitted on and when."""
    for weights in (rank_weights, answer_weights):
        if tuple(weights) != FEATURES:
            raise ValueError(f"weights for {tuple(weights)}, the code computes {FEATURES}")
    model = {"features": list(FEATURES), "rank_weights": rank_weights, "answer_weights": answer_weights,
             "answer_bias": answer_bias, "min_support": min_support, "fitted_on": fitted_on, "fitted_at": fitted_at,
             "written_by": "python -m evals.fit_answers fit"}
    path.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["dump", "fit"])
    parser.add_argument("--train-limit", type=int, default=2500, help="train questions per set (random, seed 0)")
    parser.add_argument("--dumps", type=Path, default=DUMPS, help=f"where dump writes and fit reads (default {DUMPS})")
    parser.add_argument("--splits", default="train,valid", help="what dump writes (default train,valid)")
    parser.add_argument("--max-refused", type=float, default=0.04, help="refused answerable valid questions, at most")
    parser.add_argument("--out", type=Path, default=MODEL_FILE, help=f"where fit writes the model (default {MODEL_FILE})")
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.dumps, args.train_limit, args.splits.split(","))
        if "valid" in args.splits.split(","):
            dump_unanswerable(args.dumps)
        return 0
    train_records = load(args.dumps, "facqa", "train") + load(args.dumps, "tydi", "train")
    train_records += [r for r in map(without_answer, train_records) if r is not None]
    train = [(*featurize(r), r["negative"]) for r in train_records]
    ranker = fit_ranker(train)
    weights, bias = fit_answerable(train, ranker)
    valid = {name: load(args.dumps, name, "valid") for name in INDEXES}
    if (args.dumps / "unanswerable-odd.jsonl").exists():
        valid["unanswerable-odd"] = load(args.dumps, "unanswerable", "odd")
    data = {name: [(*featurize(r), r["negative"]) for r in records] for name, records in valid.items()}
    answerable = [p for (best, p), (_, _, negative) in zip(top_sentences(data["facqa"], ranker, weights, bias),
                                                          data["facqa"]) if not negative]
    threshold = float(np.quantile(answerable, args.max_refused))
    rounded = lambda w: dict(zip(FEATURES, np.round(w.astype(float), 3).tolist()))  # noqa: E731
    write_model(args.out, rounded(ranker), rounded(weights), round(bias, 3), round(threshold, 3),
                FITTED_ON.format(refused=args.max_refused), date.today().isoformat())
    print(f"wrote {args.out}")
    for name, records in valid.items():
        measured = simulate(records, data[name], ranker, weights, bias, threshold)
        print(name, "valid", {k: round(v, 3) for k, v in measured.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
