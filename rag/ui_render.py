"""How the chat UI renders an answer, as escaped text only: the answer's markdown for a
chat bubble (each `[n]` a link to the words it cites), the cited paragraphs of each
article (`paragraph_around`), and the sources panel's HTML.

Article text is untrusted: whatever ends up in the page passes through `html.escape`
(sources panel) or `escape_markdown` (chat bubbles), so HTML, scripts, markdown images
and `javascript:` links inside articles are shown as text and never run or load; only
http(s) links become links (`safe_url`).

Left out: asking and streaming (ui.py), the strings (ui_text.py), layout (webapp.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .answer import Answer, Citation
from .ui_text import text

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_markdown(value: str) -> str:
    """`value` shown literally by a markdown renderer that also accepts HTML. URLs and
    e-mail addresses are kept from becoming links (GFM autolinks) by entity-encoding
    the `:` and `@` the autolinker looks for."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(value, quote=False))
    return escaped.replace("://", "&#58;//").replace("@", "&#64;")


_MARKER = re.compile(r"\\\[(\d+)\\\]")


def answer_markdown(answer: Answer | str, turn: int) -> str:
    """The answer for a chat bubble: escaped, with each `[n]` a link to the span of source n
    that its sentence rests on (`#rag-src-TURN-N-SPAN`); while the text streams in, and for
    a marker that is not the next one cited, to source n itself (`#rag-src-TURN-N`)."""
    body = escape_markdown(answer.text if isinstance(answer, Answer) else answer)
    cites = [cite for sentence in answer.sentences for cite in sentence.cites] if isinstance(answer, Answer) else []
    at = 0

    def link(match: re.Match[str]) -> str:
        nonlocal at
        n = int(match.group(1))
        target = f"rag-src-{turn}-{n}"
        if at < len(cites) and cites[at][0] == n:
            target, at = f"{target}-{cites[at][1]}", at + 1
        return f"[\\[{n}\\]](#{target})"

    body = _MARKER.sub(link, body)
    if isinstance(answer, Answer) and answer.notice:
        body = f"{body}\n\n*{escape_markdown(answer.notice)}*"
    return body


@dataclass(frozen=True)
class Passage:
    """The paragraphs of an article that hold its cited spans; `marks[i]` is the citation's
    span i, as offsets into `text` ((-1, -1) for a span that is not in the article)."""

    text: str
    marks: tuple[tuple[int, int], ...]


@dataclass
class Turn:
    """One question and its answer, as the sources panel shows them."""

    question: str
    answer: Answer
    passages: dict[int, Passage] = field(default_factory=dict)


GAP = "\n…\n"
"""Shown between two cited paragraphs that are not next to each other."""


def paragraph_around(body: str, spans: Sequence[tuple[int, int]]) -> Passage:
    """The paragraphs (between line breaks) holding the spans, in article order, joined by
    GAP where paragraphs are left out, with every span marked."""
    inside = [0 <= s <= e <= len(body) for s, e in spans]
    ranges = []
    for (start, end), ok in zip(spans, inside):
        if ok:
            right = body.find("\n", end)
            ranges.append((body.rfind("\n", 0, start) + 1, len(body) if right == -1 else right))
    if not ranges:
        return Passage(body, tuple((-1, -1) for _ in spans))
    merged: list[list[int]] = []
    for left, right in sorted(ranges):
        if merged and left <= merged[-1][1] + 1:  # overlapping, or the very next paragraph
            merged[-1][1] = max(merged[-1][1], right)
        else:
            merged.append([left, right])
    pieces: list[str] = []
    offsets: list[int] = []
    at = 0
    for left, right in merged:
        if pieces:
            at += len(GAP)
        offsets.append(at - left)  # body offset -> text offset, inside this range
        pieces.append(body[left:right])
        at += right - left
    marks = []
    for (start, end), ok in zip(spans, inside):
        shift = next((o for (left, right), o in zip(merged, offsets) if left <= start <= right), None) if ok else None
        marks.append((-1, -1) if shift is None else (start + shift, end + shift))
    return Passage(GAP.join(pieces), tuple(marks))


# ------------------------------------------------------------ the sources panel

def _highlight(passage: Passage, mark_id: str) -> str:
    """`passage` escaped, each span a `<mark id="MARK_ID-i">` (a marker's link target)."""
    pieces, at = [], 0
    for index, (start, end) in sorted(enumerate(passage.marks), key=lambda item: item[1]):
        if start < at or start < 0:
            continue  # overlaps the span before it (or is not in the article): that one is marked
        pieces.append(html.escape(passage.text[at:start]))
        pieces.append(f'<mark id="{mark_id}-{index}">{html.escape(passage.text[start:end])}</mark>')
        at = end
    pieces.append(html.escape(passage.text[at:]))
    return "".join(pieces)


def safe_url(url: str | None) -> str | None:
    """Only http(s) links become links; anything else (javascript:, data:) is dropped."""
    if url and re.match(r"https?://[^\s\"'<>]+$", url.strip(), re.I):
        return url.strip()
    return None


def citation_html(citation: Citation, passage: Passage | None, turn: int, language: str) -> str:
    meta = [html.escape(x) for x in (citation.source, (citation.published or "")[:10]) if x]
    if citation.author:
        meta.append(f"{text(language, 'by')} {html.escape(citation.author)}")
    url = safe_url(citation.url)
    link = (f' · <a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{text(language, 'open_original')}</a>") if url else ""
    anchor = f"rag-src-{turn}-{citation.n}"
    quote = _highlight(passage, anchor) if passage else html.escape(GAP).join(
        f'<mark id="{anchor}-{i}">{html.escape(span.quote)}</mark>' for i, span in enumerate(citation.spans))
    return (f'<div class="rag-source" id="{anchor}">'
            f'<div class="rag-source-head"><span class="rag-n">[{citation.n}]</span> '
            f"<strong>{html.escape(citation.title)}</strong></div>"
            f'<div class="rag-source-meta">{" · ".join(meta)}{link}</div>'
            f'<p class="rag-quote">{quote}</p></div>')


def sources_html(turns: Sequence[Turn], language: str) -> str:
    """All answers' sources, the latest first and open; every string escaped."""
    if not any(t.answer.citations for t in turns):
        return f'<div class="rag-sources"><p class="rag-empty">{html.escape(text(language, "no_sources"))}</p></div>'
    parts = ['<div class="rag-sources">']
    numbered = list(enumerate(turns))
    for index, turn in reversed(numbered):
        if not turn.answer.citations:
            continue
        is_latest = index == numbered[-1][0]
        items = "".join(citation_html(c, turn.passages.get(c.n), index, language) for c in turn.answer.citations)
        parts.append(f'<details class="rag-turn" id="rag-turn-{index}"{" open" if is_latest else ""}>'
                     f"<summary>{html.escape(turn.question)}</summary>{items}</details>")
    parts.append("</div>")
    return "".join(parts)
