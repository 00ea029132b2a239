"""The check every answer must pass, whichever path wrote it: each sentence of the answer
carries a span of a cited article that holds it (or, for an LLM's own words, supports it),
verbatim at its offsets in the article body."""

from __future__ import annotations

import re

from rag.answer import Answer
from rag.citations import MIN_CLAIM_SUPPORT
from rag.evidence import PHRASES
from rag.lexical import analyze

_CITED = re.compile(r"\s*(.+?)\s*((?:\[\d+\])+)(?=\s|$)", re.S)


def words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def check_every_sentence_is_quoted(answer: Answer, bodies: dict[str, str], verbatim: bool = True) -> None:
    """`verbatim`: each sentence is a quote (extractive answers), so its span must contain it;
    otherwise (an LLM's sentence) the span must hold enough of its terms."""
    text = answer.text
    for phrases in PHRASES.values():
        if text.startswith(phrases["intro"]):
            text = text[len(phrases["intro"]):]
    pieces = [(m.group(1), [int(n) for n in re.findall(r"\d+", m.group(2))]) for m in _CITED.finditer(text)]
    assert "".join(re.findall(r"\S", text)) == "".join(re.findall(r"\S", "".join(p + "".join(f"[{n}]" for n in ns)
                                                                              for p, ns in pieces))), \
        "no answer text outside a cited sentence"
    assert [p for p, _ in pieces] == [s.text for s in answer.sentences], "every sentence of the text is listed"
    used = set()
    for (piece, markers), sentence in zip(pieces, answer.sentences):
        assert sentence.cites and markers == [n for n, _ in sentence.cites], sentence
        for n, index in sentence.cites:
            citation = next(c for c in answer.citations if c.n == n)
            span = citation.spans[index]
            assert bodies[citation.article_id][span.start:span.end] == span.quote, "verbatim, at its offsets"
            if verbatim:
                assert words(piece) in words(span.quote), (piece, span.quote)
            else:
                terms = set(analyze(piece))
                assert len(terms & set(analyze(span.quote))) >= MIN_CLAIM_SUPPORT * len(terms), (piece, span.quote)
            used.add((n, index))
    every = {(c.n, i) for c in answer.citations for i in range(len(c.spans))}
    assert used == every, "every span is the quote of some sentence"
    for c in answer.citations:
        assert (c.quote, c.start, c.end) == (c.spans[0].quote, c.spans[0].start, c.spans[0].end)
    data = answer.to_json()
    assert [s["text"] for s in data["sentences"]] == [s.text for s in answer.sentences]
    for sentence in data["sentences"]:
        for cite in sentence["citations"]:
            (citation,) = [c for c in data["citations"] if c["n"] == cite["n"]]
            assert citation["spans"][cite["span"]] == {k: cite[k] for k in ("quote", "start", "end")}
            assert bodies[citation["article_id"]][cite["start"]:cite["end"]] == cite["quote"]
