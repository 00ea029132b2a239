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


# For telling a query's language only when it is plain; a few more Indonesian words, since
# Indonesian news is full of English names and titles ("Goal of the Week").
_ENGLISH = _EN_CUES | _EN_WORDS
_INDONESIAN = _ID_CUES | _ID_WORDS | frozenset("berapakah dimanakah manakah bagaimanakah mengapakah saat sebagai setelah "
                                               "atau bahwa para karena oleh sudah masih bisa".split())


def plain_language(text: str) -> str | None:
    """`en` for a text with at least two English function or question words and no
    Indonesian one, `id` for the reverse, else None (mixed, or too short to tell).

    Measured on the sets of ../shared/data (all splits): none of the 10,956 FacQA and TyDi-id
    questions and IndoSum summaries reads as plain English (`question_language` calls 22 of
    the valid and test ones and the summaries English, for names like "The Edge of
    Beyond"); 89 of the 90 English questions
    of rag/eval_english.json do (the other has "Lin Dan" in it: mixed)."""
    words = re.findall(r"[a-z]+", text.lower())
    english = sum(w in _ENGLISH for w in words)
    indonesian = sum(w in _INDONESIAN for w in words)
    if english >= 2 and not indonesian:
        return "en"
    if indonesian >= 1 and not english:
        return "id"
    return None
