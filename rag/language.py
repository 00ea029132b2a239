"""Which language a text is in: Indonesian (`id`) or English (`en`), the two rag answers in.

Both guesses count cue words, which is enough to tell the two apart: an article by its
function words, a question by its question words too (a question is too short for
function words alone: "Who is the coach of Persib?").
"""

from __future__ import annotations

import re

_ID_WORDS = frozenset("yang dan di ini itu dengan untuk dari tidak akan pada juga ke dalam kata adalah telah".split())
_EN_WORDS = frozenset("the and of to in is that for with was on said are it as by".split())

_EN_CUES = frozenset("what who whom whose when where which why how is are was were did does do the of in on to and "
                     "about many much".split())
_ID_CUES = frozenset("apa apakah siapa siapakah kapan kapankah berapa dimana di mana mengapa kenapa bagaimana yang "
                     "dan dari untuk dengan ini itu tersebut adalah pada ke oleh".split())


def _guess(text: str, english_words: frozenset[str], indonesian_words: frozenset[str]) -> str:
    words = re.findall(r"[a-z]+", text.lower())
    english = sum(w in english_words for w in words)
    indonesian = sum(w in indonesian_words for w in words)
    return "en" if english > indonesian else "id"


def detect_language(text: str) -> str:
    """'id' or 'en' for an article's text, by counting function words (enough for news prose)."""
    return _guess(text[:5000], _EN_WORDS, _ID_WORDS)


def question_language(question: str) -> str:
    """`en` when the question has more English cue words than Indonesian ones, else `id`."""
    return _guess(question, _EN_CUES, _ID_CUES)
