"""A question's parse and the numbers the sentence scorer weighs: pure functions on text.

`Question.parse` reads what a question asks once (its IDF-weighted terms, the asked words
that are not names, the kind of answer, what "berapa" counts, the noun of a typed question
word ("stadion mana"), and the asked slot of slots.py); `sentence_features` turns one candidate sentence into the numbers named in
FEATURES, the order `answer_model.json` stores its weights in.

Left out: scoring with those weights (evidence.py) and the fitted scorer itself (scorer.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .dates import MONTH_ABBREVIATIONS, MONTH_NAMES, WEEKDAY_NAMES
from .lexical import QUESTION_WORDS, STOPWORDS_EN, STOPWORDS_ID, analyze
from .slots import AskedSlot, asked_slot, match_slot

# "may" is left out of the month names: as an English word it is far more often the modal verb
# (dates.py, too, reads it as a month only next to a day or a year).
_MONTH_WORDS = sorted(MONTH_NAMES - {"may"})
_TOKEN = re.compile(r"\w+(?:(?:-|(?<=\d)[.,:/](?=\d))\w+)*")
_NUMBER = re.compile(r"\d|^(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|\w+belas|puluhan|"
                     r"\w+puluh|seratus|\w+ratus|ratusan|seribu|ribuan|jutaan|one|two|three|four|five|six|seven|eight|"
                     r"nine|ten|eleven|twelve|\w+teen|\w+ty|hundred|thousand)$", re.I)
# A time word of a sentence: a year from 1500 (history questions: "tahun berapa ... dibangun"),
# a weekday, a month or its abbreviation, "pukul" (o'clock), "abad" (century).
_TIME = re.compile(r"^(?:(?:1[5-9]|20)\d\d|" + "|".join([*sorted(WEEKDAY_NAMES), *_MONTH_WORDS,
                                                          *sorted(MONTH_ABBREVIATIONS), "pukul", "abad"]) + ")$", re.I)
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
# A typed question word: the noun before "apa"/"mana"/"siapa" ("di stadion mana", "cedera apa",
# "akun siapa"), or after "what"/"which" ("which stadium"); the answer is a new word beside it.
_TYPED_AFTER_NOUN = frozenset("apa apakah mana manakah siapa siapakah".split())
_TYPED_BEFORE_NOUN = frozenset(("what", "which"))
_NOT_TYPE_NOUNS = STOPWORDS_ID | STOPWORDS_EN | QUESTION_WORDS | frozenset(
    "nama jenis sebuah seorang is was are were did does do the".split())
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
    slot: AskedSlot | None = None
    """The count (of which noun) or time (of which event) it asks for (slots.py), if any."""
    typed: frozenset[str] = frozenset()
    """Stems of the noun a typed question word names ("stadion" of "di stadion mana"), if any."""

    @classmethod
    def parse(cls, text: str, idf: Callable[[str], float], cross_lingual: bool = False) -> Question:
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
        return cls(text, weights, asked, kind, frozenset(lowered), bigrams, unit, asked_slot(text), _typed(lowered))


def _typed(lowered: list[str]) -> frozenset[str]:
    """The stems of the noun (up to two words) a typed question word names (see _TYPED_AFTER_NOUN)."""
    nouns = []
    for i, word in enumerate(lowered):
        if word in _TYPED_AFTER_NOUN:
            j = i - 1
            while j >= 0 and i - j <= 2 and lowered[j] not in _NOT_TYPE_NOUNS and lowered[j].isalpha():
                nouns.append(lowered[j])
                j -= 1
        elif word in _TYPED_BEFORE_NOUN and i + 1 < len(lowered) and lowered[i + 1] not in _NOT_TYPE_NOUNS:
            nouns.append(lowered[i + 1])
    return frozenset(stem for noun in nouns for stem in analyze(noun))


def coverage(question: Question, terms: set[str]) -> float:
    """The (IDF-weighted) share of the question's terms among `terms`."""
    total = sum(question.weights.values()) or 1.0
    return sum(w for t, w in question.weights.items() if t in terms) / total


FEATURES = ("coverage", "window_coverage", "asked", "window_asked", "bigrams", "dense", "dense_gap", "retrieval",
            "first_hit", "number_near_asked", "number_near_unit", "money", *(f"new_{kind}" for kind in KINDS), "words",
            "capitals", "capital_near", "novelty", "hit_dense", "slot", "window_slot", "typed", "window_typed", "low_dense")
DENSE_FEATURES = ("dense", "dense_gap")
"""The features that need the sentence embedded (e5 on 2 cores: ~35 ms a sentence); 0 when it is not."""


def slot_features(question: Question, sentence: str, window: str) -> tuple[float, float]:
    """`slot` and `window_slot`: slot_match of the sentence (and of it with its neighbours) for
    the asked count or time, minus 1 (-1: nothing of the asked kind tied to the asked words;
    0: a perfect match, or no slot asked)."""
    if question.slot is None:
        return 0.0, 0.0
    own = match_slot(question.slot, sentence).slot_match
    around = max(own, match_slot(question.slot, window).slot_match) if window != sentence else own
    return own - 1.0, around - 1.0


def typed_feature(question: Question, words: list[str]) -> float:
    """`typed`: 0 when the typed noun stands beside a word the question does not have ("di
    Stadion Etihad" for "di stadion mana"), or none is asked; -1 when it does not."""
    if not question.typed:
        return 0.0
    lowered = [w.lower() for w in words]
    for j, word in enumerate(lowered):
        if question.typed.intersection(analyze(word)):
            for k in (j + 1, j + 2, j - 1, j - 2):
                if 0 <= k < len(lowered) and lowered[k] not in question.tokens and lowered[k] not in _NOT_TYPE_NOUNS \
                        and not question.typed.intersection(analyze(lowered[k])):
                    return 0.0
    return -1.0


def sentence_features(question: Question, sentence: str, window: str, retrieval: float, rank: int,
                      dense: float | None = None, best_dense: float | None = None,
                      hit_dense: float = 0.0, dense_floor: float | None = None) -> list[float]:
    """The numbers the sentence scorer weighs (named in FEATURES, same order). `dense`: the
    sentence's similarity to the question (None: not embedded, both dense features 0);
    `hit_dense`: its article's best chunk's, from the search; `dense_floor`: the cosine under
    which that chunk is off the question's topic, for the embedder the scorer was fitted with
    (None: another embedder, whose cosines the scorer does not know, and `low_dense` is 0)."""
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
        coverage(question, terms),
        coverage(question, window_terms),
        len(asked & terms) / len(asked) if asked else 1.0,
        len(asked & window_terms) / len(asked) if asked else 1.0,
        bigrams,
        dense or 0.0,
        dense - best_dense if dense is not None and best_dense is not None else 0.0,
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
        hit_dense,
        *slot_features(question, sentence, window),
        typed_feature(question, words),
        typed_feature(question, _TOKEN.findall(window)) if window != sentence else typed_feature(question, words),
        # How far the best chunk's cosine falls under the floor (0 above it), in tenths.
        min(0.0, hit_dense - dense_floor) * 10 if dense_floor is not None else 0.0,
    ]
