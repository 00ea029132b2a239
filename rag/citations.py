"""Citations a reader can check, for both ways of answering (extractive and LLM).

  - `Span`, `Citation`, `AnswerSentence`: what an answer cites, down to the exact words of
    the article (body[start:end] == quote);
  - `Citer`: numbers the cited sources in order of first citation and gathers each one's
    spans (the extractive answer and the checked LLM answer are built with it);
  - `verify_citations`: an LLM answer's `[n]` markers parsed and checked, each sentence
    against a sentence of a source it cites; a sentence citing the wrong source or none is
    given the source sentence that supports it (`_repaired_citation`), else dropped;
  - `dated_notice`: the note for a question about a year after every cited article.

Left out: which sentences answer the question (evidence.py) and asking the model (answer.py).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .chunks import sentence_spans
from .evidence import PHRASES
from .lexical import analyze
from .refs import ArticleRef, HasRef
from .search import Hit

Source = tuple[Hit, int, int, str]
"""A numbered source given to the model: its hit, and the start, end and text of its context."""


@dataclass(frozen=True)
class Span:
    """Words of an article an answer sentence rests on: body[start:end] == quote."""

    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation(HasRef):
    """One cited article (`ref`, also readable as `citation.title`, ...), with every span of
    it that the answer quotes (`spans`, best first). `quote`, `start` and `end` are the first
    span, for readers of the earlier shape."""

    n: int
    ref: ArticleRef
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
        return cls(n=n, ref=hit.ref, quote=first.quote, start=first.start, end=first.end, spans=tuple(spans))

    def to_json(self) -> dict[str, Any]:
        """n, the reference's fields, the first span, and `spans` [{quote, start, end}, ...]."""
        return {"n": self.n, **self.ref.to_json(), "quote": self.quote, "start": self.start, "end": self.end,
                "spans": [asdict(span) for span in self.spans]}


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer (without its markers) and what it cites: for each marker,
    the citation number `n` and the index of the span in that citation's `spans`."""

    text: str
    cites: tuple[tuple[int, int], ...]


@dataclass
class Citer:
    """Numbers sources in the order they are first cited (`cite`) and gathers the spans
    quoted from each, once each; `citations()` lists them by number."""

    _numbers: dict[Hashable, int] = field(default_factory=dict)
    _hits: dict[Hashable, Hit] = field(default_factory=dict)
    _spans: dict[Hashable, list[Span]] = field(default_factory=dict)

    def cite(self, key: Hashable, hit: Hit, span: Span) -> tuple[int, int]:
        """(citation number, index of `span` in its spans) for `span` of the source `key`."""
        number = self._numbers.setdefault(key, len(self._numbers) + 1)
        self._hits.setdefault(key, hit)
        spans = self._spans.setdefault(key, [])
        if span not in spans:
            spans.append(span)
        return number, spans.index(span)

    def citations(self) -> list[Citation]:
        return [Citation.of(number, self._hits[key], self._spans[key]) for key, number in self._numbers.items()]


@dataclass
class CheckedAnswer:
    """What is left of an LLM answer after `verify_citations`: its supported sentences with
    their markers (`text`), the cited sources renumbered, and each sentence's spans."""

    text: str
    citations: list[Citation]
    sentences: list[AnswerSentence]


_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
MIN_CLAIM_SUPPORT = 0.5
"""Share of an answer sentence's (IDF-weighted) terms that its cited sentence must contain."""
REPAIR_MIN_TERMS = 3
REPAIR_MIN_SUPPORT = 0.6
"""A citation is repaired (given to a source the model did not cite) only for a claim of at
least 3 content words, most of them in one source sentence: a one- or two-word claim
("HACKED.") matches an injected sentence too easily. Hand-set."""


def verify_citations(raw: str, sources: Sequence[Source]) -> CheckedAnswer:
    """Check an LLM answer against its sources: markers that point nowhere are removed,
    each sentence must be supported by a sentence of a source it cites; a sentence that
    none of its cited sources supports (or that cites none) gets the source whose sentence
    supports it best, and is dropped when no source does. Sources are renumbered in order of first citation, and each sentence
    carries the supporting sentence of each source it cites, verbatim with its offsets."""
    citer = Citer()
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
        cites = tuple(citer.cite(index, sources[index][0], quote) for index, quote in supported)
        sentences.append(AnswerSentence(_drop_space_before_stop(claim), cites))
    text = " ".join(f"{s.text} {''.join(f'[{n}]' for n, _ in s.cites)}" for s in sentences)
    return CheckedAnswer(text, citer.citations(), sentences)


def _repaired_citation(claim: str, sources: Sequence[Source]) -> list[tuple[int, Span]]:
    """[(source index, span)] of the one source whose sentence supports `claim` best, or []."""
    if len(set(analyze(claim))) < REPAIR_MIN_TERMS:
        return []
    ranked = [(_support(claim, source), index) for index, source in enumerate(sources)]
    (rank, span), index = max(ranked, key=lambda item: (item[0][0], -item[1]), default=(((0.0, 0.0), None), 0))
    return [(index, span)] if span is not None and rank[1] >= REPAIR_MIN_SUPPORT else []


def _drop_space_before_stop(claim: str) -> str:
    """ "... di Tokyo ." (a marker taken out before the full stop) -> "... di Tokyo." """
    return re.sub(r"\s+([.!?,;:])$", r"\1", claim.rstrip())


def _best_support(claim: str, source: Source) -> Span | None:
    """The sentence of `source` that best supports `claim`, if it covers enough of it: the
    one holding the claim word for word, else the one sharing most of its terms."""
    (_, share), best = _support(claim, source)
    return best if share >= MIN_CLAIM_SUPPORT else None


def _support(claim: str, source: Source) -> tuple[tuple[float, float], Span | None]:
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


# A year a question asks about: 1900-2099, the years news can be about.
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def dated_notice(citations: Sequence[Citation], question: str, language: str) -> str | None:
    """A question about a year after every cited article ("Siapa pemenang Pilkada 2018?" answered
    from 2017 news) gets a notice: the quotes are real, but the news may predate the outcome."""
    asked = max((int(y) for y in _YEAR.findall(question)), default=None)
    published = [c.published for c in citations]
    if asked is None or not published or None in published:
        return None
    latest = max(int(p[:4]) for p in published if p)
    if asked > latest:
        return PHRASES[language]["dated"].format(year=latest, asked=asked)
    return None
