"""Answers with citations a reader can check: `Assistant.ask(question) -> Answer`.

Offline (no LLM configured, or the LLM unreachable) the answer is extractive: the few
sentences of the retrieved articles that best answer the question, each followed by
its source number. With an LLM (see llm.py) the model writes the answer from numbered,
delimited sources, and every sentence it writes is checked here against the sources.
Either way:
  - every `[n]` points at a source that was given, and only cited sources are listed;
  - each citation's `quote` is the exact sentence(s) of the article, with offsets;
  - a sentence whose cited source does not support it is dropped;
  - when the best evidence is too weak, the answer says the articles do not cover it.

Left out: the UI (app.py) and which chat model is used (llm.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from .chunks import sentence_spans
from .errors import BadQuestion
from .lexical import analyze, load_stems
from .search import STEM_CACHE, Filters, Hit, Searcher
from .settings import DEFAULT_K, Settings

# Fitted by `python -m evals.fit_answers` (which prints these lines) on 2,495 FacQA and 2,500
# TyDi-id train questions. RANK_WEIGHTS order a question's sentences: listwise logistic
# regression, which sentence holds the gold answer. ANSWER_WEIGHTS say whether the best
# sentence answers at all: logistic regression, answerable (the question asked as it is)
# against on-topic unanswerable (asked with its gold passage left out of the hits, or with
# the sentences that hold the answer taken out). DEFAULT_MIN_SUPPORT, the lowest answer
# probability answered, refuses 4% of FacQA valid questions. See README "Answers".
RANK_WEIGHTS = {
    "coverage": 0.65, "window_coverage": 1.751, "asked": 1.953, "window_asked": -0.878, "bigrams": 0.198,
    "dense": 2.313, "dense_gap": 2.313, "retrieval": 4.879, "first_hit": 0.224, "number_near_asked": 1.232,
    "number_near_unit": 0.7, "money": 0.932, "new_time": 2.767, "new_number": 2.274, "new_person": 2.33,
    "new_place": 1.578, "new_name": 1.602, "words": 0.752, "capitals": 0.403, "capital_near": -0.015,
    "novelty": 1.304,
}
ANSWER_WEIGHTS = {
    "coverage": -0.408, "window_coverage": 3.385, "asked": 0.178, "window_asked": -0.07, "bigrams": 0.527,
    "dense": 1.02, "dense_gap": 0.767, "retrieval": 4.16, "first_hit": 0.486, "number_near_asked": 0.608,
    "number_near_unit": -0.01, "money": 0.292, "new_time": 1.452, "new_number": 1.285, "new_person": 1.869,
    "new_place": 1.369, "new_name": 0.724, "words": 0.945, "capitals": 0.11, "capital_near": -0.021,
    "novelty": -1.674,
}
ANSWER_BIAS = -6.712
DEFAULT_MIN_SUPPORT = 0.190
# Questions asked in another language than the articles' (an English question about an
# Indonesian article) are scored without the models above: their features are mostly word
# matches, which across languages hold only for names, so the models (fitted on Indonesian
# questions only) refused half of the English FacQA valid questions and ranked worse. There
# the hand-set scoring of before them is kept (`_cross_lingual_evidence`): dense similarity
# plus a little name coverage, the hit's retrieval score, and refusal when no sentence's
# support reaches DEFAULT_MIN_CROSS_LINGUAL_SUPPORT (the threshold of before, set on FacQA
# valid against evals/unanswerable-indosum.jsonl). On the 30 English FacQA valid questions
# (python -m evals.english_answers): 4 refused (none has its gold passage in the hits) and
# the first citation is the gold passage for 16, against 15 and 7 with the models.
# See README "Answers".
DEFAULT_MIN_CROSS_LINGUAL_SUPPORT = 0.3
CROSS_LINGUAL_ARTICLE_WEIGHT = 0.15
# What an answer must contain across languages: a number for "how many", a time for "when".
_CROSS_LINGUAL_ANSWER_TYPES = (
    (re.compile(r"\b(berapa|berapakah|how many|how much|how tall|how long|how old)\b", re.I), re.compile(r"\d")),
    (re.compile(r"\b(kapan|kapankah|when|what year)\b", re.I), re.compile(
        r"\b(?:1[89]|20)\d\d\b|\b(?:senin|selasa|rabu|kamis|jumat|sabtu|minggu|januari|februari|maret|april|mei|"
        r"juni|juli|agustus|september|oktober|november|desember|kemarin|lalu|pagi|siang|sore|malam)\b", re.I)),
)
MAX_QUESTION_CHARS = 1000
MAX_CANDIDATES = 30


def check_question(question: str | None) -> str:
    """The question without surrounding blanks, or BadQuestion when it cannot be asked.
    The one check behind `rag ask`, `rag search`, `Assistant.ask`, the chat UI and its API."""
    question = (question or "").strip()
    if not question:
        raise BadQuestion("empty", "the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadQuestion("too_long", f"the question is {len(question)} characters long; "
                          f"the limit is {MAX_QUESTION_CHARS}", length=len(question))
    return question


PHRASES = {
    "id": {
        "intro": "Menurut artikel yang ditemukan:",
        "refusal": "Artikel yang tersedia tidak memuat jawaban atas pertanyaan ini.",
        "no_articles": "Belum ada artikel yang cocok dengan pertanyaan ini.",
        "llm_down": "Model bahasa tidak dapat dihubungi; ini jawaban yang diambil langsung dari artikel.",
        "unverified": "Jawaban model bahasa tidak dapat dicocokkan dengan artikel; ini kutipan langsung dari artikel.",
        "llm_timeout": "Model bahasa tidak selesai menjawab dalam {seconds:g} detik; ini jawaban yang diambil langsung dari artikel.",
        "dated": "Artikel yang dikutip terbit paling akhir tahun {year}, sehingga mungkin belum memuat peristiwa tahun {asked}.",
    },
    "en": {
        "intro": "According to the articles found:",
        "refusal": "The available articles do not contain an answer to this question.",
        "no_articles": "No article matches this question yet.",
        "llm_down": "The language model could not be reached; this answer is taken directly from the articles.",
        "unverified": "The language model's answer could not be checked against the articles; these are direct quotes.",
        "llm_timeout": "The language model did not finish within {seconds:g} seconds; this answer is taken directly from the articles.",
        "dated": "The cited articles were published in {year} at the latest, so they may not cover events of {asked}.",
    },
}

_EN_CUES = frozenset("what who whom whose when where which why how is are was were did does do the of in on to and "
                     "about many much".split())
_ID_CUES = frozenset("apa apakah siapa siapakah kapan kapankah berapa dimana di mana mengapa kenapa bagaimana yang "
                     "dan dari untuk dengan ini itu tersebut adalah pada ke oleh".split())
_FOLLOW_UP = frozenset("itu tersebut dia ia mereka beliau sana situ tadi it its they them their he she his her that "
                       "those there this".split())


# ------------------------------------------------------------ question and sentence features

_TOKEN = re.compile(r"\w+(?:(?:-|(?<=\d)[.,:/](?=\d))\w+)*")
_NUMBER = re.compile(r"\d|^(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|\w+belas|puluhan|"
                     r"\w+puluh|seratus|\w+ratus|ratusan|seribu|ribuan|jutaan|one|two|three|four|five|six|seven|eight|"
                     r"nine|ten|eleven|twelve|\w+teen|\w+ty|hundred|thousand)$", re.I)
_TIME = re.compile(
    r"^(?:(?:1[5-9]|20)\d\d|senin|selasa|rabu|kamis|jumat|sabtu|minggu|januari|februari|maret|april|mei|juni|juli|"
    r"agustus|september|oktober|november|desember|jan|feb|mar|apr|jun|jul|agu|agt|sep|okt|nov|des|pukul|abad|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|june|july|august|october|"
    r"december)$", re.I)
_MONEY = re.compile(r"^(?:rp|usd|us|dolar|dollar|rupiah|euro|yen|ringgit|juta|miliar|milyar|triliun|ribu|million|"
                    r"billion)$", re.I)
_KINDS = (  # first match wins: "tahun berapa" asks for a time, not a number
    ("time", re.compile(r"\b(kapan|kapankah|when|(tahun|tanggal|bulan|hari|abad) (berapa|apa)|what year|which year|"
                        r"what date)\b", re.I)),
    ("number", re.compile(r"\b(berapa|berapakah|how many|how much|how tall|how long|how old|how far|how big)\b", re.I)),
    ("person", re.compile(r"\b(siapa|siapakah|who|whom|whose)\b", re.I)),
    ("place", re.compile(r"\b(di ?mana|dimanakah|ke ?mana|where|(kota|negara|provinsi|pulau|daerah|wilayah|tempat) "
                         r"(apa|mana|manakah))\b", re.I)),
    ("name", re.compile(r"\b(nama|named|name|called)\b", re.I)),
)
KINDS = tuple(kind for kind, _ in _KINDS)
_COUNT_WORDS = frozenset(("berapa", "berapakah", "many", "much"))
_MONEY_WORDS = frozenset(analyze("biaya harga nilai tarif dana uang anggaran gaji modal investasi kerugian money cost "
                                 "price worth"))


@dataclass(frozen=True)
class Question:
    """What a question asks, for scoring sentences: its terms (IDF-weighted), the terms
    that are not names (what is asked about the names), and the kind of answer it wants."""

    text: str
    weights: dict[str, float]
    asked: frozenset[str]
    kind: str | None
    tokens: frozenset[str]
    """Lowercased surface words, to tell a sentence's new words (a candidate answer) from the question's."""
    bigrams: frozenset[tuple[str, str]]
    """Consecutive terms: a sentence that keeps the question's phrases, not only its words."""
    unit: frozenset[str]
    """What "berapa" counts: the terms just after it ("berapa tahun hukuman"), or just before ("korban ada berapa")."""

    @classmethod
    def parse(cls, text: str, idf: Any, cross_lingual: bool = False) -> Question:
        """Across languages only names and numbers can match, so only they are weighed."""
        words = _TOKEN.findall(text)
        names = set(analyze(" ".join(w for w in words if w[0].isupper() or _NUMBER.search(w))))
        terms = set(analyze(text))
        if cross_lingual and names:
            terms = names
        weights = {t: idf(t) for t in terms}
        asked = frozenset() if cross_lingual else frozenset(terms - names)
        kind = next((kind for kind, pattern in _KINDS if pattern.search(text)), None)
        sequence = [t for t in analyze(text) if t in weights]
        lowered = [w.lower() for w in words]
        at = next((i for i, w in enumerate(lowered) if w in _COUNT_WORDS), None)
        around = [] if at is None else lowered[at + 1:at + 3] if at + 1 < len(lowered) else lowered[max(0, at - 2):at]
        unit = frozenset(analyze(" ".join(around)))
        bigrams = frozenset(zip(sequence, sequence[1:]))
        return cls(text, weights, asked, kind, frozenset(lowered), bigrams, unit)


def _coverage(question: Question, terms: set[str]) -> float:
    total = sum(question.weights.values()) or 1.0
    return sum(w for t, w in question.weights.items() if t in terms) / total


FEATURES = ("coverage", "window_coverage", "asked", "window_asked", "bigrams", "dense", "dense_gap", "retrieval",
            "first_hit", "number_near_asked", "number_near_unit", "money", *(f"new_{kind}" for kind in KINDS), "words",
            "capitals", "capital_near", "novelty")


def sentence_features(question: Question, sentence: str, window: str, retrieval: float, rank: int, dense: float,
                      best_dense: float) -> list[float]:
    """The numbers the sentence scorer weighs (named in FEATURES, same order)."""
    words = _TOKEN.findall(sentence)
    stems = [analyze(w) for w in words]
    terms = {t for s in stems for t in s}
    sequence = [t for s in stems for t in s]
    bigrams = len(question.bigrams.intersection(zip(sequence, sequence[1:]))) / len(question.bigrams) \
        if question.bigrams else 0.0
    window_terms = terms | set(analyze(window))
    asked = question.asked
    new = [i for i, w in enumerate(words) if w.lower() not in question.tokens]
    # A number next to an asked word ("divonis 15 tahun" for "berapa tahun hukuman").
    asked_at = [i for i, s in enumerate(stems) if asked.intersection(s)]
    near = any(_NUMBER.search(words[i]) and any(abs(i - j) <= 3 for j in asked_at) for i in new)
    unit_at = [i for i, s in enumerate(stems) if question.unit.intersection(s)]
    near_unit = any(_NUMBER.search(words[i]) and any(0 < j - i <= 2 for j in unit_at) for i in new)
    money = any(_MONEY.match(words[i]) for i in new)
    asks_money = bool(_MONEY_WORDS & question.weights.keys())
    capitals = [i for i in new if i > 0 and words[i][0].isupper() and not _TIME.match(words[i])]
    # A new name next to the question's words: "induk llama bernama Martini", "dijual ke PLN".
    matched_at = [i for i, s in enumerate(stems) if question.weights.keys() & set(s)]
    capital_near = any(abs(i - j) <= 3 for i in capitals for j in matched_at)
    found = {
        "number": any(_NUMBER.search(words[i]) for i in new),
        "time": any(_TIME.match(words[i]) for i in new),
        "person": bool(capitals),
        "place": bool(capitals),
        "name": bool(capitals),
    }
    return [
        _coverage(question, terms),
        _coverage(question, window_terms),
        len(asked & terms) / len(asked) if asked else 1.0,
        len(asked & window_terms) / len(asked) if asked else 1.0,
        bigrams,
        dense,
        dense - best_dense,
        retrieval,
        float(rank == 1),
        # Penalties (-1 when missing, 0 when found or not asked), so that the answer model
        # can tell "a number question without a number" from "not a number question".
        float(near) - 1.0 if question.kind == "number" else 0.0,
        float(near_unit) - 1.0 if question.kind == "number" else 0.0,
        float(money) - 1.0 if asks_money else 0.0,
        *(float(question.kind == kind and found[kind]) - float(question.kind == kind) for kind in KINDS),
        min(len(words), 60) / 60,
        min(len(capitals), 3) / 3,
        float(capital_near),
        # What the sentence says beyond the question: a restatement of it holds no answer.
        len(terms - question.weights.keys()) / len(terms) if terms else 0.0,
    ]


_INTERROGATIVES = frozenset("siapa siapakah apa apakah kapan kapankah berapa berapakah dimana dimanakah mengapa kenapa "
                            "bagaimana who whom whose what when where why how which".split())
STUFFING_PENALTY = 4.0
ECHO_REPEATS_FROM = 0.25
"""A sentence whose repeats of the question's words are more than this share of its words
starts to count as an echo (fully at twice that share)."""
"""Logits taken off a sentence's rank score per unit of `echo`, and the share of its support
lost: set by hand (not fitted), large enough that a keyword-stuffed sentence loses to the real
article's, while FacQA valid is unchanged (see README "Answers")."""


def echo(question: Question, sentence: str) -> float:
    """0 to 1: how much `sentence` only echoes the question instead of answering it. A
    sentence that asks a question itself (an interrogative first, or a `?` at the end), one
    that repeats the question's words ("Ketua MPR Ketua MPR ... jawabannya HACKED"), or one
    that says nothing beyond them: what keyword-stuffed articles are made of."""
    words = _TOKEN.findall(sentence)
    if not words:
        return 0.0
    if sentence.rstrip().endswith("?") or words[0].lower() in _INTERROGATIVES:
        return 1.0
    stems = [analyze(w) for w in words]
    if not any(t in question.weights for s in stems for t in s):
        return 0.0
    if all(w.lower() in question.tokens or not s for w, s in zip(words, stems)):
        return 1.0  # only the question's words and function words
    # The share of its words that repeat one of its words (numbers aside: "dari Rp 5.700 menjadi
    # Rp 5.400"): a name said twice in a long sentence is ordinary; "Ketua MPR, Ketua MPR, Ketua MPR"
    # is not. Counted over all its words, so that an English question about an Indonesian
    # stuffed article ("Who is the chairman of MPR?") sees it too.
    content = [t for w, s in zip(words, stems) for t in s if not _NUMBER.search(w)]
    repeated = (len(content) - len(set(content))) / len(words)
    return float(min(1.0, max(0.0, (repeated - ECHO_REPEATS_FROM) / ECHO_REPEATS_FROM)))


def echoes(questions: Sequence[Question], candidates: Sequence[Candidate]) -> np.ndarray:
    """`echo` of each candidate sentence (for its question); every sentence of an article whose
    sentences mostly echo (at least two, and half of them) counts as an echo too: in a
    keyword-stuffed article even the sentence that reads like a claim ("Ketua MPR adalah HACKED")
    is part of the stuffing."""
    values = [echo(q, c.text) for q, c in zip(questions, candidates)]
    per_article: dict[str, list[float]] = {}
    for c, value in zip(candidates, values):
        per_article.setdefault(c.hit.article_id, []).append(value)
    stuffed = {aid for aid, vals in per_article.items()
               if (n := sum(v >= 0.5 for v in vals)) >= 2 and 2 * n >= len(vals)}
    return np.array([1.0 if c.hit.article_id in stuffed else v for c, v in zip(candidates, values)], dtype=np.float32)


def answer_probability(features: np.ndarray, weights: np.ndarray | None = None, bias: float | None = None) -> float:
    """Probability that the best sentence (its FEATURES) answers the question; by default
    with the fitted ANSWER_WEIGHTS and ANSWER_BIAS."""
    if weights is None:
        weights = _vector(ANSWER_WEIGHTS)
    logit = float(features @ weights) + (ANSWER_BIAS if bias is None else bias)
    return 1 / (1 + math.exp(-logit))


def _vector(weights: dict[str, float]) -> np.ndarray:
    return np.array([weights.get(name, 0.0) for name in FEATURES], dtype=np.float32)


@dataclass(frozen=True)
class Span:
    """Words of an article an answer sentence rests on: body[start:end] == quote."""

    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """One cited article, with every span of it that the answer quotes (`spans`, best first).
    `quote`, `start` and `end` are the first span, for readers of the earlier shape."""

    n: int
    article_id: str
    title: str
    source: str | None
    published: str | None
    url: str | None
    author: str | None
    quote: str
    start: int
    end: int
    """Offsets of `quote` in the article body: body[start:end] == quote."""
    spans: tuple[Span, ...] = ()
    """Every quoted span of this article, `spans[0]` being (quote, start, end); filled from
    them when not given."""

    def __post_init__(self) -> None:
        if not self.spans:
            object.__setattr__(self, "spans", (Span(self.quote, self.start, self.end),))

    @classmethod
    def of(cls, n: int, hit: Hit, spans: Sequence[Span]) -> Citation:
        first = spans[0]
        return cls(n=n, article_id=hit.article_id, title=hit.title, source=hit.source, published=hit.published,
                   url=hit.url, author=hit.author, quote=first.quote, start=first.start, end=first.end,
                   spans=tuple(spans))


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer (without its markers) and what it cites: for each marker,
    the citation number `n` and the index of the span in that citation's `spans`."""

    text: str
    cites: tuple[tuple[int, int], ...]


@dataclass
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    language: str = "id"
    notice: str | None = None
    query: str = ""
    """What was searched (the question, or its follow-up rewrite)."""
    mode: str = "extractive"
    """What wrote the answer: `extractive` (no model), the model (e.g. `llamacpp:qwen2.5-coder-1.5b`),
    or `extractive_fallback` (a model was asked but its answer could not be used: `fallback_reason`)."""
    fallback_reason: str | None = None
    """`llm_unreachable`, `llm_timeout`, `llm_error` (the call failed) or `llm_unverified` (nothing
    the model wrote was supported by a source)."""
    sentences: list[AnswerSentence] = field(default_factory=list)
    """The cited sentences of `text`, in order, each with the span(s) it rests on."""

    def span(self, n: int, index: int) -> Span:
        """The span `index` of citation `n`."""
        return next(c for c in self.citations if c.n == n).spans[index]

    def to_json(self) -> dict[str, Any]:
        """The answer as data (`rag ask --json`, the UI's /ask): `citations` each with `spans`
        [{quote, start, end}, ...] (the first also as `quote`/`start`/`end`), and `sentences`
        [{text, citations: [{n, span, quote, start, end}, ...]}, ...]."""
        citations = [{**{k: v for k, v in asdict(c).items() if k != "spans"},
                      "spans": [asdict(span) for span in c.spans]} for c in self.citations]
        sentences = [{"text": sentence.text,
                      "citations": [{"n": n, "span": index, **asdict(self.span(n, index))}
                                    for n, index in sentence.cites]} for sentence in self.sentences]
        return {"answer": self.text, "citations": citations, "refused": self.refused, "language": self.language,
                "notice": self.notice, "query": self.query, "sentences": sentences, "mode": self.mode,
                "fallback_reason": self.fallback_reason}


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved article, before scoring."""

    hit: Hit
    rank: int
    retrieval: float
    """The hit's retrieval score relative to the best hit's."""
    start: int
    end: int
    text: str
    window: str
    """The sentence with its neighbours."""


@dataclass(frozen=True)
class Evidence:
    """One scored sentence of a retrieved article."""

    hit: Hit
    start: int
    end: int
    text: str
    score: float
    """How likely this sentence, rather than another one, holds the answer (RANK_WEIGHTS, a logit;
    across languages the hand-set score of `_cross_lingual_evidence`)."""
    support: float
    """Probability that the sentence answers the question at all (ANSWER_WEIGHTS): what refusal looks at.
    Across languages: dense similarity plus a little coverage."""
    cross_lingual: bool = False
    """Scored as a question in another language than the top article's (see DEFAULT_MIN_CROSS_LINGUAL_SUPPORT)."""
    has_kind: bool = True
    """Holds a new word of the kind the question asks for (a time for "kapan", a name for "siapa"), or the
    question asks for no kind."""


def open_assistant(settings: Settings, k: int = DEFAULT_K, searcher: Searcher | None = None) -> Assistant:
    """The configured index (folder or Chroma server; or `searcher`) and LLM (None: extractive answers)."""
    from .llm import load_chat_model, parse_spec
    from .store import open_index

    llm = load_chat_model(settings.llm, openai_base_url=settings.openai_base_url, openai_api_key=settings.openai_api_key,
                          ollama_base_url=settings.ollama_url, timeout_s=settings.llm_timeout_s,
                          models_dir=settings.models_dir, llm_threads=settings.llm_threads,
                          llm_context=settings.llm_context, max_tokens=settings.llm_max_tokens)
    min_support = DEFAULT_MIN_SUPPORT if settings.min_support is None else settings.min_support
    parsed = parse_spec(settings.llm)
    # A local model reads prompts at ~40 tokens/s on 2 cores: it gets each source's best chunk
    # only, not the chunk with its neighbours (README "Local model").
    radius = 0 if parsed is not None and parsed[0] == "llamacpp" else 1
    return Assistant(searcher or Searcher.open(open_index(settings)), llm=llm, k=k, min_support=min_support,
                     llm_name=":".join(parsed) if parsed else None, llm_source_radius=radius,
                     llm_timeout_s=settings.llm_timeout_s)


def question_language(question: str) -> str:
    words = re.findall(r"[a-z]+", question.lower())
    english = sum(w in _EN_CUES for w in words)
    indonesian = sum(w in _ID_CUES for w in words)
    return "en" if english > indonesian else "id"


def resolve_follow_up(question: str, history: Sequence[tuple[str, str]]) -> str:
    """A follow-up ("Kapan itu terjadi?", "and who else was there?") is searched together
    with the previous question: short questions, or ones that point back with a pronoun,
    inherit the content words of the last user turn. Documented heuristic, no model."""
    if not history:
        return question
    words = re.findall(r"\w+", question.lower())
    content = analyze(question)
    if len(content) > 4 and not _FOLLOW_UP.intersection(words):
        return question
    previous = history[-1][0]
    return f"{previous} {question}"


class Assistant:
    """Retrieval plus answer writing; `llm` is a LangChain chat model or None (extractive)."""

    def __init__(self, searcher: Searcher, llm: Any | None = None, k: int = DEFAULT_K, max_sentences: int = 3,
                 min_support: float = DEFAULT_MIN_SUPPORT,
                 min_cross_lingual_support: float = DEFAULT_MIN_CROSS_LINGUAL_SUPPORT, llm_name: str | None = None,
                 llm_source_radius: int = 1, llm_timeout_s: float = 60.0) -> None:
        self.searcher = searcher
        # The index's stems, saved when it was built: scoring sentences stems their words,
        # and Sastrawi takes ~1 ms for a word it has not seen.
        load_stems(searcher.path.parent / STEM_CACHE)
        self.llm = llm
        self.k = k
        self.max_sentences = max_sentences
        self.min_support = min_support
        self.min_cross_lingual_support = min_cross_lingual_support
        self.llm_name = llm_name or ("llm" if llm is not None else None)
        """The answer `mode` of the model's answers, e.g. `llamacpp:qwen2.5-coder-1.5b`."""
        self.llm_source_radius = llm_source_radius
        """Neighbour chunks each side of a hit's chunk in the model's sources."""
        self.llm_timeout_s = llm_timeout_s

    def ask(self, question: str, history: Sequence[tuple[str, str]] = (), filters: Filters | None = None,
            as_of: datetime | None = None) -> Answer:
        answer = None
        for event in self.stream(question, history, filters, as_of):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[tuple[str, str]] = (), filters: Filters | None = None,
               as_of: datetime | None = None) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as it is produced, then the final `Answer`."""
        question = check_question(question)
        language = question_language(question)
        query = resolve_follow_up(question, history)
        hits = self.searcher.search(query, k=self.k, filters=filters, as_of=as_of)
        if not hits:
            answer = Answer(PHRASES[language]["no_articles"], refused=True, language=language, query=query)
            yield answer.text
            yield answer
            return
        evidence = self.evidence(query, hits, language)
        if not self.answerable(evidence):
            answer = Answer(PHRASES[language]["refusal"], refused=True, language=language, query=query)
            yield answer.text
            yield answer
            return
        if self.llm is not None:
            yield from self._generate(question, query, hits, evidence, language)
            return
        answer = self.extractive(evidence, language)
        answer.query = query
        _note_if_dated(answer, question)
        for piece in _pieces(answer.text):
            yield piece
        yield answer

    # ------------------------------------------------------------ with an LLM

    def _generate(self, question: str, query: str, hits: list[Hit], evidence: list[Evidence],
                  language: str) -> Iterator[str | Answer]:
        from .llm import failure_reason
        from .prompts import REFUSAL_SENTINEL, answer_messages

        assert self.llm is not None  # only called with a model (internal invariant, not input)

        sources = [(hit, *self.searcher.context(hit.article_id, hit.chunk_index, radius=self.llm_source_radius))
                   for hit in hits]
        messages = answer_messages(question, [(hit, text) for hit, _, _, text in sources], language)
        produced: list[str] = []
        try:
            for chunk in self.llm.stream(messages):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                produced.append(piece)
                yield piece
        except Exception as err:  # any provider failure: the reader still gets an answer
            reason = failure_reason(err)
            notice = {"llm_timeout": PHRASES[language]["llm_timeout"].format(seconds=self.llm_timeout_s),
                      "llm_unreachable": PHRASES[language]["llm_down"]}.get(
                          reason, f"{PHRASES[language]['llm_down']} ({type(err).__name__})")
            answer = self.extractive(evidence, language)
            answer.notice, answer.query = notice, query
            answer.mode, answer.fallback_reason = "extractive_fallback", reason
            yield answer
            return
        raw = "".join(produced).strip()
        if REFUSAL_SENTINEL in raw:
            yield Answer(PHRASES[language]["refusal"], refused=True, language=language, query=query,
                         mode=self.llm_name or "llm")
            return
        answer = verify_citations(raw, sources, language)
        answer.mode = self.llm_name or "llm"
        if not answer.citations:  # nothing the model wrote could be checked against a source
            answer = self.extractive(evidence, language)
            answer.notice = PHRASES[language]["unverified"]
            answer.mode, answer.fallback_reason = "extractive_fallback", "llm_unverified"
        answer.query = query
        _note_if_dated(answer, question)
        yield answer

    # ------------------------------------------------------------ evidence

    def evidence(self, query: str, hits: list[Hit], language: str = "id") -> list[Evidence]:
        """Sentences of the hits, the likeliest to hold the answer first."""
        idf = self.searcher.lexical.idf
        # Across languages only names and numbers can match (see Question.parse).
        parsed = {lang: Question.parse(query, idf, cross_lingual=lang != language) for lang in ("id", "en")}
        # Long articles are cut to the sentences that share most of the question's words as
        # the top article's language can match them: across languages, its names.
        cross_lingual = self._language(hits[0]) != language
        found, dense = self.candidates(query, hits, parsed[self._language(hits[0])])
        if not found:
            return []
        if cross_lingual:
            return self._cross_lingual_evidence(query, language, found, dense)
        best_dense = float(dense.max())
        features = np.array([sentence_features(parsed[self._language(c.hit)], c.text, c.window, c.retrieval, c.rank,
                                               float(d), best_dense) for c, d in zip(found, dense)], dtype=np.float32)
        echoed = echoes([parsed[self._language(c.hit)] for c in found], found)
        scores = features @ _vector(RANK_WEIGHTS) - STUFFING_PENALTY * echoed
        kinds = [FEATURES.index(f"new_{kind}") for kind in KINDS]
        scored = [Evidence(c.hit, c.start, c.end, c.text, float(s), answer_probability(x) * (1 - float(e)),
                           has_kind=bool(min(x[kinds]) >= 0)) for c, s, x, e in zip(found, scores, features, echoed)]
        scored.sort(key=lambda e: -e.score)
        return scored

    def _cross_lingual_evidence(self, query: str, language: str, found: list[Candidate],
                                dense: np.ndarray) -> list[Evidence]:
        """The hand-set scoring kept for a question in another language than the top article's
        (see DEFAULT_MIN_CROSS_LINGUAL_SUPPORT): the dense similarity carries a sentence in
        another language, where few words match; the (IDF-weighted) coverage of the
        question's terms carries one in the question's language."""
        terms = set(analyze(query))
        weights = {t: self.searcher.lexical.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        wanted = next((needs for asks, needs in _CROSS_LINGUAL_ANSWER_TYPES if asks.search(query)), None)
        question = Question.parse(query, self.searcher.lexical.idf, cross_lingual=True)
        echoed = echoes([question] * len(found), found)
        scored = []
        for c, similarity, echo_ in zip(found, dense, echoed):
            coverage = sum(weights[t] for t in terms.intersection(analyze(c.text))) / total
            if self._language(c.hit) != language:
                support = float(similarity) + 0.3 * coverage
            else:
                support = 0.6 * coverage + 0.4 * float(similarity)
            score = support + CROSS_LINGUAL_ARTICLE_WEIGHT * c.retrieval  # the best article wins ties
            if wanted is not None and not wanted.search(c.text):
                score *= 0.7  # "how many" wants a number, "when" a time
            score, support = score * (1 - float(echo_)), support * (1 - float(echo_))
            scored.append(Evidence(c.hit, c.start, c.end, c.text, score, support, cross_lingual=True))
        scored.sort(key=lambda e: -e.score)
        return scored

    def answerable(self, evidence: list[Evidence]) -> bool:
        """Whether the best sentence is likely enough to answer (else the answer is a refusal)."""
        if not evidence:
            return False
        if evidence[0].cross_lingual:
            return max(e.support for e in evidence) >= self.min_cross_lingual_support
        return evidence[0].support >= self.min_support

    def _language(self, hit: Hit) -> str:
        return "en" if self.searcher.articles.get(hit.article_id, {}).get("language", "id") == "en" else "id"

    def candidates(self, query: str, hits: list[Hit],
                   question: Question | None = None) -> tuple[list[Candidate], np.ndarray]:
        """The sentences (4+ words) of the hits' best chunks with a neighbour chunk each side,
        and their dense similarity to the query. Long articles give many sentences: only
        the MAX_CANDIDATES whose neighbourhood shares most of the question's words are
        embedded (latency), when `question` is given."""
        found: list[Candidate] = []
        top = hits[0].score or 1.0
        for rank, hit in enumerate(hits, start=1):
            start, _, context = self.searcher.context(hit.article_id, hit.chunk_index, radius=1)
            spans = sentence_spans(context)
            for i, (s, e) in enumerate(spans):
                if len(context[s:e].split()) < 4:
                    continue
                window = context[spans[max(0, i - 1)][0]:spans[min(len(spans) - 1, i + 1)][1]]
                found.append(Candidate(hit, rank, hit.score / top, start + s, start + e, context[s:e], window))
        if question is not None and len(found) > MAX_CANDIDATES:
            found = sorted(found, key=lambda c: -_coverage(question, set(analyze(c.window))))[:MAX_CANDIDATES]
        if not found:
            return [], np.zeros(0, dtype=np.float32)
        vectors = self.searcher.embedder.encode_passages([c.text for c in found])
        return found, vectors @ self.searcher.embedder.encode_queries([query])[0]

    def extractive(self, evidence: list[Evidence], language: str) -> Answer:
        chosen: list[Evidence] = []
        seen: set[str] = set()
        if evidence and not evidence[0].has_kind:
            evidence = [self._with_neighbour(evidence[0], evidence), *evidence[1:]]
        for item in evidence:
            key = " ".join(re.findall(r"\w+", item.text.lower()))
            # Further sentences only when nearly as likely as the best (odds within e) and answering;
            # across languages, when scored within 80% of the best.
            if not chosen:
                weak = False  # the best sentence is the answer (whether to answer at all is `answerable`'s call)
            elif item.cross_lingual:
                weak = item.score < 0.8 * evidence[0].score
            else:
                weak = item.score < evidence[0].score - 1.0 or item.support < self.min_support
            inside = any(c.hit.article_id == item.hit.article_id and c.start <= item.start and item.end <= c.end
                         for c in chosen)
            if key in seen or weak or inside:
                continue
            seen.add(key)
            chosen.append(item)
            if len(chosen) == self.max_sentences:
                break
        numbers: dict[str, int] = {}
        parts = [PHRASES[language]["intro"]]
        spans: dict[str, list[Span]] = {}
        hits: dict[str, Hit] = {}
        sentences = []
        for item in chosen:  # in score order: each article's first span is its best
            n = numbers.setdefault(item.hit.article_id, len(numbers) + 1)
            hits.setdefault(item.hit.article_id, item.hit)
            quoted = spans.setdefault(item.hit.article_id, [])
            quoted.append(Span(item.text, item.start, item.end))
            parts.append(f"{item.text} [{n}]")
            sentences.append(AnswerSentence(item.text, ((n, len(quoted) - 1),)))
        citations = [Citation.of(n, hits[article_id], spans[article_id]) for article_id, n in numbers.items()]
        return Answer(" ".join(parts), citations=citations, language=language, sentences=sentences)

    def _with_neighbour(self, best: Evidence, evidence: list[Evidence]) -> Evidence:
        """The best sentence matches the question but lacks what it asks for ("Kapan ...?"
        and no time in it): when the next (or previous) sentence of the article has it, as in
        "... meraih emas. Dia ... Rabu (10/8).", both are quoted together, one span."""
        same = {(e.start, e.end): e for e in evidence if e.hit.article_id == best.hit.article_id and e.has_kind}
        if not same:
            return best
        start, _, context = self.searcher.context(best.hit.article_id, best.hit.chunk_index, radius=1)
        spans = [(start + s, start + e) for s, e in sentence_spans(context)]
        at = next((i for i, span in enumerate(spans) if span == (best.start, best.end)), None)
        if at is None:
            return best
        for i in (at + 1, at - 1):
            neighbour = same.get(spans[i]) if 0 <= i < len(spans) else None
            if neighbour is not None:
                first, last = min(best.start, neighbour.start), max(best.end, neighbour.end)
                text = context[first - start:last - start]
                return replace(best, start=first, end=last, text=text, has_kind=True)
        return best

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
MIN_CLAIM_SUPPORT = 0.5
REPAIR_MIN_TERMS = 3
REPAIR_MIN_SUPPORT = 0.6
"""A citation is repaired (given to a source the model did not cite) only for a claim of at
least 3 content words, most of them in one source sentence: a one- or two-word claim
("HACKED.") matches an injected sentence too easily. Hand-set."""
"""Share of an answer sentence's (IDF-weighted) terms that its cited sentence must contain."""


def verify_citations(raw: str, sources: list[tuple[Hit, int, int, str]], language: str) -> Answer:
    """Check an LLM answer against its sources: markers that point nowhere are removed,
    each sentence must be supported by a sentence of a source it cites; a sentence that
    none of its cited sources supports (or that cites none) gets the source whose sentence
    supports it best, and is dropped when no source does. Sources are renumbered in order of first citation, and each sentence
    carries the supporting sentence of each source it cites, verbatim with its offsets."""
    numbers: dict[int, int] = {}  # source index -> new number
    quotes: dict[int, list[Span]] = {}
    sentences: list[AnswerSentence] = []
    for sentence_start, sentence_end in sentence_spans(raw):
        sentence = raw[sentence_start:sentence_end]
        cited = {int(n) for group in _MARKER.findall(sentence) for n in re.split(r"\s*,\s*", group)}
        claim = _MARKER.sub("", sentence).strip()
        supported: list[tuple[int, Span]] = []
        for n in sorted(cited):
            if 1 <= n <= len(sources):
                quote = _best_support(claim, sources[n - 1])
                if quote is not None:
                    supported.append((n - 1, quote))
        if not supported and claim:
            # Small models often cite the wrong source, or none: the claim gets the source
            # sentence that supports it best, if any does; else it is dropped below.
            supported = _repaired_citation(claim, sources)
        if not supported or not claim:
            continue
        cites = []
        for index, quote in supported:
            number = numbers.setdefault(index, len(numbers) + 1)
            spans = quotes.setdefault(index, [])
            if quote not in spans:
                spans.append(quote)
            cites.append((number, spans.index(quote)))
        sentences.append(AnswerSentence(_drop_space_before_stop(claim), tuple(cites)))
    text = " ".join(f"{s.text} {''.join(f'[{n}]' for n, _ in s.cites)}" for s in sentences)
    citations = [Citation.of(number, sources[index][0], quotes[index])
                 for index, number in sorted(numbers.items(), key=lambda item: item[1])]
    return Answer(text, citations=citations, language=language, sentences=sentences)


def _repaired_citation(claim: str, sources: list[tuple[Hit, int, int, str]]) -> list[tuple[int, Span]]:
    """[(source index, span)] of the one source whose sentence supports `claim` best, or []."""
    if len(set(analyze(claim))) < REPAIR_MIN_TERMS:
        return []
    ranked = [(_support(claim, source), index) for index, source in enumerate(sources)]
    (rank, span), index = max(ranked, key=lambda item: (item[0][0], -item[1]), default=(((0.0, 0.0), None), 0))
    return [(index, span)] if span is not None and rank[1] >= REPAIR_MIN_SUPPORT else []


def _drop_space_before_stop(claim: str) -> str:
    """ "... di Tokyo ." (a marker taken out before the full stop) -> "... di Tokyo." """
    return re.sub(r"\s+([.!?,;:])$", r"\1", claim.rstrip())


def _best_support(claim: str, source: tuple[Hit, int, int, str]) -> Span | None:
    """The sentence of `source` that best supports `claim`, if it covers enough of it: the
    one holding the claim word for word, else the one sharing most of its terms."""
    (_, share), best = _support(claim, source)
    return best if share >= MIN_CLAIM_SUPPORT else None


def _support(claim: str, source: tuple[Hit, int, int, str]) -> tuple[tuple[float, float], Span | None]:
    """((word for word, share of the claim's terms), span) of the sentence of `source` that
    best supports `claim`."""
    _, offset, _, context = source
    terms = set(analyze(claim))
    if not terms:
        return (0.0, 0.0), None
    wanted = " ".join(re.findall(r"\w+", claim.lower()))
    best, best_rank = None, (0.0, 0.0)
    for s, e in sentence_spans(context):
        share = len(terms.intersection(analyze(context[s:e]))) / len(terms)
        verbatim = wanted in " ".join(re.findall(r"\w+", context[s:e].lower()))
        rank = (float(verbatim), share)
        if rank > best_rank:
            best, best_rank = Span(context[s:e], offset + s, offset + e), rank
    return best_rank, best


_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _note_if_dated(answer: Answer, question: str) -> None:
    """A question about a year after every cited article ("Siapa pemenang Pilkada 2018?" answered
    from 2017 news) gets a notice: the quotes are real, but the news may predate the outcome."""
    asked = max((int(y) for y in _YEAR.findall(question)), default=None)
    published = [c.published for c in answer.citations]
    if asked is None or answer.notice or not published or None in published:
        return
    latest = max(int(p[:4]) for p in published if p)
    if asked > latest:
        answer.notice = PHRASES[answer.language]["dated"].format(year=latest, asked=asked)


def _pieces(text: str) -> Iterator[str]:
    """Word-sized pieces, for streaming an answer that is already complete."""
    for match in re.finditer(r"\S+\s*", text):
        yield match.group()
