"""Measure the lexical retriever's analyzer options and BM25 parameters, to choose the defaults.

Every question is searched against the whole passage set of its dataset with
`rag.lexical.LexicalIndex`; the relevant passage is the question's `passage_id`.
Reported per variant and dataset: R@1, R@5, R@10, MRR@10 and search latency (ms/query,
analysis included, on a warm stemmer cache).

Datasets (train or valid splits only, never test; read from the shared data directory,
never copied into the repo):
  facqa       FacQA questions over 1,369 Indonesian news passages
  tydiqa-id   TyDi QA GoldP Indonesian questions over 4,650 Wikipedia paragraphs
  facqa-en30  (valid only) 30 FacQA valid questions translated into English by hand
              (rag.evaluate.english_questions("valid")) against the FacQA passages: English
              questions about Indonesian text, where only names and numbers can match

A variant is a name from PRESETS or a spec `key=value,...` with keys compounds
(parts|joined|both), stem, stopwords (none|light|sastrawi), en, qw (0/1), k1, b;
unset keys take rag.lexical's defaults. `--grid` sweeps k1 x b for each variant.
`--dedup` also counts a passage equal to the gold one up to spacing and punctuation
(FacQA has 56 such pairs, `1890-1979` / `1890 - 1979`): without it, compound handling
looks worse than it is, because the joined form makes one twin a token longer.

What the defaults rest on (train split, --dedup, MRR@10 FacQA / TyDi-id; differences
below ~0.003 are noise): plain 0.812/0.645; Sastrawi stemming +0.007/+0.020; dropping
question words +0.004/+0.011; the light stopword list +0.000/+0.004 (Sastrawi's 809
words: -0.003/-0.005); k1 0.9 vs 1.5 +0.003/+0.002 (FacQA alone prefers 0.6, TyDi 0.9-1.2);
compounds parts/joined/both within 0.002 (both kept: exact codes plus spaced spellings);
English stopwords neutral on Indonesian questions, but facqa-en30 0.32 -> 0.56.

    python -m evals.lexical [--variants plain,chosen,...] [--split valid] [--grid] [--dedup]
                            [--datasets facqa,tydiqa-id,facqa-en30] [--data-dir ../shared/data]
                            [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rag.lexical import DEFAULT_ANALYZER, DEFAULT_B, DEFAULT_K1, AnalyzerConfig, LexicalIndex

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATASETS = {"facqa": ("facqa-{split}.jsonl", "facqa-passages.jsonl"),
            "tydiqa-id": ("tydiqa-id-{split}.jsonl", "tydiqa-id-passages.jsonl"),
            "facqa-en30": ("", "facqa-passages.jsonl")}
KS = (1, 5, 10)
PLAIN = "compounds=parts,stem=0,stopwords=none,en=0,qw=0,k1=1.5,b=0.75"  # the README baseline
# Each preset changes one thing from its neighbour, so the table reads as an ablation.
PRESETS = {
    "plain": PLAIN,
    "plain+qw": PLAIN + ",qw=1",
    "plain+joined": PLAIN + ",compounds=joined",
    "plain+both": PLAIN + ",compounds=both",
    "plain+stem": PLAIN + ",stem=1",
    "plain+light-sw": PLAIN + ",stopwords=light",
    "plain+sastrawi-sw": PLAIN + ",stopwords=sastrawi",
    "plain+en-sw": PLAIN + ",en=1",
    "plain+k1": PLAIN + ",k1=0.9",
    "chosen": "",
    "chosen-stem": "stem=0",
    "chosen-qw": "qw=0",
    "chosen-light-sw": "stopwords=none",
    "chosen+sastrawi-sw": "stopwords=sastrawi",
    "chosen-en-sw": "en=0",
    "chosen-parts": "compounds=parts",
    "chosen-joined": "compounds=joined",
    "chosen@k1=1.5": "k1=1.5",
}
DEFAULT_VARIANTS = ("plain", "plain+qw", "plain+both", "plain+stem", "plain+light-sw", "plain+en-sw", "plain+k1",
                    "chosen", "chosen-stem", "chosen-qw", "chosen-light-sw", "chosen+sastrawi-sw", "chosen-en-sw",
                    "chosen-parts", "chosen-joined", "chosen@k1=1.5")
GRID_K1 = (0.6, 0.9, 1.2, 1.5, 2.0)
GRID_B = (0.3, 0.5, 0.75, 0.9)


@dataclass
class Row:
    variant: str
    dataset: str
    questions: int
    r1: float
    r5: float
    r10: float
    mrr10: float
    ms_per_query: float


def parse_variant(spec: str) -> tuple[AnalyzerConfig, float, float]:
    config, k1, b = DEFAULT_ANALYZER, DEFAULT_K1, DEFAULT_B
    names = {"compounds": "compounds", "stem": "stem", "stopwords": "stopwords", "en": "english_stopwords",
             "qw": "question_words"}
    for item in filter(None, PRESETS.get(spec, spec).split(",")):
        key, _, value = item.partition("=")
        if key == "k1":
            k1 = float(value)
        elif key == "b":
            b = float(value)
        elif key in ("stem", "en", "qw"):
            config = replace(config, **{names[key]: value in ("1", "true", "yes")})
        elif key in names:
            config = replace(config, **{names[key]: value})
        else:
            raise SystemExit(f"unknown variant key {key!r} in {spec!r}")
    return config, k1, b


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate(index: LexicalIndex, questions: list[dict], texts: list[str] | None = None) -> tuple[list[float], float, float]:
    """Recalls at KS, MRR@10 and ms/query. With `texts`, a passage whose text equals the
    gold passage's up to spacing and punctuation also counts as the hit (FacQA holds 56 such
    pairs, e.g. `1890-1979` / `1890 - 1979`, that no retriever can tell apart)."""
    position = {pid: i for i, pid in enumerate(index.ids)}
    key = [re.sub(r"\W+", "", t.lower()) for t in texts] if texts else None
    hits = {k: 0 for k in KS}
    mrr = 0.0
    start = time.perf_counter()
    for q in questions:
        ranked = [doc for doc, _ in index.search(q["question"], max(KS))]
        target = position[q["passage_id"]]
        hits_at = [i for i, doc in enumerate(ranked, 1) if doc == target or (key and key[doc] == key[target])]
        rank = hits_at[0] if hits_at else None
        for k in KS:
            hits[k] += rank is not None and rank <= k
        mrr += 1.0 / rank if rank else 0.0
    elapsed = time.perf_counter() - start
    n = max(len(questions), 1)
    return [hits[k] / n for k in KS], mrr / n, elapsed * 1000 / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.lexical", description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                        help="comma-separated preset names; use ';' to separate key=value specs")
    parser.add_argument("--split", choices=("valid", "train"), default="valid", help="never test")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--grid", action="store_true", help=f"sweep k1 in {GRID_K1} x b in {GRID_B}")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--limit", type=int, default=0, help="first N questions per dataset (0: all)")
    parser.add_argument("--dedup", action="store_true",
                        help="count a passage equal to the gold one up to spacing/punctuation as a hit")
    parser.add_argument("--json", action="store_true", help="print rows as JSON lines")
    args = parser.parse_args(argv)

    sep = ";" if ";" in args.variants else ","
    variants = [v.strip() for v in args.variants.split(sep) if v.strip()]
    rows: list[Row] = []
    if not args.json:
        print(f"{'variant':<58} {'dataset':<10} {'n':>4} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7} {'ms/q':>6}")
    for dataset in args.datasets.split(","):
        q_name, p_name = DATASETS[dataset]
        qa = args.data_dir / "qa"
        if dataset == "facqa-en30":
            if args.split != "valid":
                continue  # the translations are of valid questions
            from rag.evaluate import english_questions

            questions = [{"question": q, "passage_id": pid} for q, pid in english_questions("valid")]
        else:
            questions = read_jsonl(qa / q_name.format(split=args.split))
        questions = questions[: args.limit] if args.limit else questions
        passages = read_jsonl(qa / p_name)
        texts, ids = [p["text"] for p in passages], [p["id"] for p in passages]
        for variant in variants:
            config, k1, b = parse_variant(variant)
            params = [(k1, b)] if not args.grid else [(g1, gb) for g1 in GRID_K1 for gb in GRID_B]
            for k1, b in params:
                index = LexicalIndex.build(texts, ids, config, k1=k1, b=b)
                index.search(questions[0]["question"], 10)  # warm caches
                recalls, mrr, ms = evaluate(index, questions, texts if args.dedup else None)
                label = variant if not args.grid else f"{variant} k1={k1} b={b}"
                row = Row(label, dataset, len(questions), *recalls, mrr, ms)
                rows.append(row)
                if args.json:
                    print(json.dumps(asdict(row)), flush=True)
                else:
                    print(f"{label[:58]:<58} {dataset:<10} {row.questions:>4} {row.r1:6.3f} {row.r5:6.3f} "
                          f"{row.r10:6.3f} {row.mrr10:7.3f} {row.ms_per_query:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
