"""Split articles into sentence-aware chunks sized in the embedding model's tokens.

A chunk is a run of whole sentences of one article whose embedded text (title + chunk,
see `Chunk.embedding_text`) fits the token budget, so the model never truncates it
silently. Consecutive chunks share about `overlap_tokens` tokens of whole sentences.
A single sentence longer than the budget is cut at word boundaries. Every chunk keeps
its character offsets in the article body, so a citation can point at exact words.

Left out: semantic or layout-aware chunking; the sentence splitter is a rule set for
Indonesian and English news prose, not a trained model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .articles import Article

CHUNKER_VERSION = 1

# Abbreviations after which a period does not end a sentence (Indonesian and English news).
_ABBREVIATIONS = frozenset(
    "dr drs dra ir prof h hj st sh se mm mt mh mr mrs ms jr sr no nomor jl jln kol brigjen mayjen letjen "
    "jend kapt kompol akbp kombes irjen komjen dll dsb dst tsb yth sdr bpk pt cv tbk rp us vs etc inc ltd co "
    "corp gov sen rep dkk kab kec kel prov a.n u.p".split()
)
_SENTENCE_BREAK = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|\n+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    article: Article
    index: int
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.article.text[self.start:self.end]

    @property
    def id(self) -> str:
        return f"{self.article.id}#{self.index}"

    def embedding_text(self) -> str:
        """Exactly what is embedded: the title gives the chunk its article's context
        (unless the chunk already starts with it, as when the title is the first sentence)."""
        title = self.article.title
        return f"{title}\n{self.text}" if title and not self.text.startswith(title) else self.text


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed; newlines always end a sentence."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_BREAK.finditer(text):
        if m.group().strip() and not _ends_sentence(text, m):
            continue
        end = m.start() + len(m.group().rstrip())
        _add_span(text, start, end, spans)
        start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def _ends_sentence(text: str, m: re.Match[str]) -> bool:
    """A period ends a sentence unless it follows an abbreviation or an initial, or the
    next word starts in lower case (a mid-sentence abbreviation we do not know)."""
    before = text[max(0, m.start() - 12):m.start()]
    word = re.search(r"([\w.]+)$", before)
    if m.group().startswith(".") and word:
        token = word.group(1).lower()
        if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()) or re.fullmatch(r"(\w\.)+\w", token):
            return False
        if token.isdigit() and m.end() < len(text) and text[m.end()].isdigit():
            return False
    following = text[m.end():m.end() + 1]
    return not following.islower()


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def chunk_article(
    article: Article,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    overlap_tokens: int = 0,
) -> list[Chunk]:
    """Pack whole sentences into chunks whose `embedding_text()` has at most `max_tokens` tokens."""
    title_tokens = count_tokens(article.title + "\n") if article.title else 0
    budget = max_tokens - title_tokens
    if budget < 8:
        raise ValueError(f"title of {article.id!r} leaves no room for text in {max_tokens} tokens")
    pieces: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for start, end in sentence_spans(article.text):
        n = count_tokens(article.text[start:end])
        if n <= budget:
            pieces.append((start, end, n))
        else:
            pieces.extend(_split_long(article.text, start, end, count_tokens, budget))

    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j, used = i, 0
        while j < len(pieces) and (j == i or used + pieces[j][2] <= budget):
            used += pieces[j][2]
            j += 1
        start, end = pieces[i][0], pieces[j - 1][1]
        # Token counts of separate sentences do not add up exactly to the count of
        # their join; shrink until the real text fits.
        while j - 1 > i and count_tokens(article.text[start:end]) > budget:
            j -= 1
            end = pieces[j - 1][1]
        chunks.append(Chunk(article, len(chunks), start, end))
        if j >= len(pieces):
            break
        # Start the next chunk with the trailing sentences that fit in the overlap.
        back, carried = j, 0
        while back - 1 > i and carried + pieces[back - 1][2] <= overlap_tokens:
            back -= 1
            carried += pieces[back][2]
        i = back
    return chunks


def _split_long(text: str, start: int, end: int, count_tokens: Callable[[str], int], budget: int) -> list[tuple[int, int, int]]:
    """Cut an over-long sentence into word windows that each fit the budget."""
    words = [(start + m.start(), start + m.end()) for m in _WORD.finditer(text[start:end])]
    out: list[tuple[int, int, int]] = []
    i = 0
    while i < len(words):
        lo, hi = i + 1, len(words)
        # Binary search the most words that fit: token counts grow with the word count.
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count_tokens(text[words[i][0]:words[mid - 1][1]]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        piece = (words[i][0], words[lo - 1][1])
        out.append((*piece, count_tokens(text[piece[0]:piece[1]])))
        i = lo
    return out
