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

import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


from .chunks import sentence_spans
from .lexical import analyze
from .search import Filters, Hit, Searcher
from .settings import Settings

# Both calibrated on FacQA valid (answerable) against the odd-numbered questions of
# evals/unanswerable-indosum.jsonl, for at most ~5% of answerable questions refused;
# see README "Answers".
DEFAULT_MIN_SUPPORT = 0.3
DEFAULT_MIN_ASKED_COVERAGE = 0.3
DEFAULT_ARTICLE_WEIGHT = 0.15

_ANSWER_TYPES = (
    (re.compile(r"\b(berapa|berapakah|how many|how much|how tall|how long|how old)\b", re.I), re.compile(r"\d")),
    (re.compile(r"\b(kapan|kapankah|when|what year)\b", re.I), re.compile(
        r"\b(?:1[89]|20)\d\d\b|\b(?:senin|selasa|rabu|kamis|jumat|sabtu|minggu|januari|februari|maret|april|mei|"
        r"juni|juli|agustus|september|oktober|november|desember|kemarin|lalu|pagi|siang|sore|malam)\b", re.I)),
)


def _answer_type(question: str) -> re.Pattern[str] | None:
    """What an answer must contain, by question word: a number, or a time."""
    for asks, needs in _ANSWER_TYPES:
        if asks.search(question):
            return needs
    return None
MAX_QUESTION_CHARS = 1000

PHRASES = {
    "id": {
        "intro": "Menurut artikel yang ditemukan:",
        "refusal": "Artikel yang tersedia tidak memuat jawaban atas pertanyaan ini.",
        "no_articles": "Belum ada artikel yang cocok dengan pertanyaan ini.",
        "llm_down": "Model bahasa tidak dapat dihubungi; ini jawaban yang diambil langsung dari artikel.",
        "unverified": "Jawaban model bahasa tidak dapat dicocokkan dengan artikel; ini kutipan langsung dari artikel.",
    },
    "en": {
        "intro": "According to the articles found:",
        "refusal": "The available articles do not contain an answer to this question.",
        "no_articles": "No article matches this question yet.",
        "llm_down": "The language model could not be reached; this answer is taken directly from the articles.",
        "unverified": "The language model's answer could not be checked against the articles; these are direct quotes.",
    },
}

_EN_CUES = frozenset("what who whom whose when where which why how is are was were did does do the of in on to and "
                     "about many much".split())
_ID_CUES = frozenset("apa apakah siapa siapakah kapan kapankah berapa dimana di mana mengapa kenapa bagaimana yang "
                     "dan dari untuk dengan ini itu tersebut adalah pada ke oleh".split())
_FOLLOW_UP = frozenset("itu tersebut dia ia mereka beliau sana situ tadi it its they them their he she his her that "
                       "those there this".split())


@dataclass(frozen=True)
class Citation:
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
    more_quotes: tuple[tuple[int, int, str], ...] = ()
    """Other cited sentences of the same article, as (start, end, text)."""


@dataclass
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    language: str = "id"
    notice: str | None = None
    query: str = ""
    """What was searched (the question, or its follow-up rewrite)."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["answer"] = data.pop("text")
        return data


@dataclass(frozen=True)
class Evidence:
    """One candidate sentence of a retrieved article."""

    hit: Hit
    start: int
    end: int
    text: str
    score: float
    coverage: float
    support: float
    """How well the sentence itself matches the question (no article prior): what refusal looks at."""


def open_assistant(settings: Settings, k: int = 5) -> Assistant:
    """The configured index (folder or Chroma server) and LLM (None: extractive answers)."""
    from .llm import load_chat_model
    from .store import open_index

    llm = load_chat_model(settings.llm, openai_base_url=settings.openai_base_url, openai_api_key=settings.openai_api_key,
                          ollama_base_url=settings.ollama_url, timeout_s=settings.llm_timeout_s)
    return Assistant(Searcher.open(open_index(settings)), llm=llm, k=k)


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

    def __init__(self, searcher: Searcher, llm: Any | None = None, k: int = 5, max_sentences: int = 3,
                 min_support: float = DEFAULT_MIN_SUPPORT, min_asked_coverage: float = DEFAULT_MIN_ASKED_COVERAGE,
                 article_weight: float = DEFAULT_ARTICLE_WEIGHT) -> None:
        self.searcher = searcher
        self.min_asked_coverage = min_asked_coverage
        self.article_weight = article_weight
        self.llm = llm
        self.k = k
        self.max_sentences = max_sentences
        self.min_support = min_support

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
        language = question_language(question)
        query = resolve_follow_up(question.strip(), history)
        hits = self.searcher.search(query, k=self.k, filters=filters, as_of=as_of)
        if not hits:
            answer = Answer(PHRASES[language]["no_articles"], refused=True, language=language, query=query)
            yield answer.text
            yield answer
            return
        evidence = self.evidence(query, hits, language)
        if (not evidence or max(e.support for e in evidence) < self.min_support
                or not self.answers_the_question(query, evidence, language)):
            answer = Answer(PHRASES[language]["refusal"], refused=True, language=language, query=query)
            yield answer.text
            yield answer
            return
        if self.llm is not None:
            yield from self._generate(question, query, hits, evidence, language)
            return
        answer = self.extractive(evidence, language)
        answer.query = query
        for piece in _pieces(answer.text):
            yield piece
        yield answer

    # ------------------------------------------------------------ with an LLM

    def _generate(self, question: str, query: str, hits: list[Hit], evidence: list[Evidence],
                  language: str) -> Iterator[str | Answer]:
        from .llm import is_unreachable
        from .prompts import REFUSAL_SENTINEL, answer_messages

        sources = [(hit, *self.searcher.context(hit.article_id, hit.chunk_index, radius=1)) for hit in hits]
        messages = answer_messages(question, [(hit, text) for hit, _, _, text in sources], language)
        produced: list[str] = []
        try:
            for chunk in self.llm.stream(messages):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                produced.append(piece)
                yield piece
        except Exception as err:  # any provider failure: the reader still gets an answer
            notice = PHRASES[language]["llm_down"] if is_unreachable(err) else \
                f"{PHRASES[language]['llm_down']} ({type(err).__name__})"
            answer = self.extractive(evidence, language)
            answer.notice, answer.query = notice, query
            yield answer
            return
        raw = "".join(produced).strip()
        if REFUSAL_SENTINEL in raw:
            yield Answer(PHRASES[language]["refusal"], refused=True, language=language, query=query)
            return
        answer = verify_citations(raw, sources, language)
        if not answer.citations:  # nothing the model wrote could be checked against a source
            answer = self.extractive(evidence, language)
            answer.notice = PHRASES[language]["unverified"]
        answer.query = query
        yield answer

    # ------------------------------------------------------------ evidence

    def evidence(self, query: str, hits: list[Hit], language: str = "id") -> list[Evidence]:
        """Sentences of the hits' best chunks (with a neighbour each side), best first."""
        terms = set(analyze(query))
        weights = {t: self.searcher.lexical.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        candidates: list[tuple[Hit, int, int, str, float]] = []
        for hit in hits:
            start, _, context = self.searcher.context(hit.article_id, hit.chunk_index, radius=1)
            for s, e in sentence_spans(context):
                sentence = context[s:e]
                if len(sentence.split()) < 4:
                    continue
                covered = sum(weights[t] for t in terms.intersection(analyze(sentence)))
                candidates.append((hit, start + s, start + e, sentence, covered / total))
        if not candidates:
            return []
        vectors = self.searcher.embedder.encode_passages([c[3] for c in candidates])
        query_vector = self.searcher.embedder.encode_queries([query])[0]
        dense = vectors @ query_vector
        top = hits[0].score or 1.0
        retrieval = {hit.article_id: hit.score / top for hit in hits}
        wanted = _answer_type(query)
        scored = []
        cross_lingual = {hit.article_id: self.searcher.articles.get(hit.article_id, {}).get("language", "id") != language
                         for hit in hits}
        for (hit, start, end, sentence, coverage), similarity in zip(candidates, dense):
            # Coverage of the question's (IDF-weighted) terms carries most of the weight;
            # the dense similarity rescues paraphrases, and carries a question asked in
            # another language than the article's, where few words can match.
            if cross_lingual[hit.article_id]:
                support = float(similarity) + 0.3 * coverage
            else:
                support = 0.6 * coverage + 0.4 * float(similarity)
            # The article's own retrieval score counts too: the best article's sentence wins ties.
            score = support + self.article_weight * retrieval[hit.article_id]
            if wanted is not None and not wanted.search(sentence):
                score *= 0.7  # "berapa" wants a number, "kapan" a time
            scored.append(Evidence(hit, start, end, sentence, score, coverage, support))
        scored.sort(key=lambda e: -e.score)
        return scored

    def answers_the_question(self, question: str, evidence: list[Evidence], language: str) -> bool:
        """Whether some top sentence holds what is asked, not only whom it is about.

        Questions about a topic the articles cover, asking a fact they do not report
        ("Berapa tinggi badan Raisa?"), match the names well; the asked-for words (the
        question's words that are not capitalised names) and the kind of answer (a number
        for "berapa", a time for "kapan") are what tell them apart. Skipped across
        languages, where words cannot match."""
        same_language = [e for e in evidence[:5]
                         if self.searcher.articles.get(e.hit.article_id, {}).get("language", "id") == language]
        if not same_language:
            return True
        asked = set(analyze(" ".join(w for w in re.findall(r"\w+", question) if not w[0].isupper())))
        if len(asked) < 2:
            asked = set()  # one word ("nama", "singkatan") is too little to judge by
        wanted = _answer_type(question)
        for item in same_language:
            if wanted is not None and not wanted.search(item.text):
                continue
            if not asked or len(asked.intersection(analyze(item.text))) / len(asked) >= self.min_asked_coverage:
                return True
        return False

    def extractive(self, evidence: list[Evidence], language: str) -> Answer:
        chosen: list[Evidence] = []
        seen: set[str] = set()
        for item in evidence:
            key = " ".join(re.findall(r"\w+", item.text.lower()))
            if key in seen or item.score < 0.8 * evidence[0].score:
                continue
            seen.add(key)
            chosen.append(item)
            if len(chosen) == self.max_sentences:
                break
        numbers: dict[str, int] = {}
        parts = [PHRASES[language]["intro"]]
        quotes: dict[str, list[Evidence]] = {}
        for item in chosen:
            n = numbers.setdefault(item.hit.article_id, len(numbers) + 1)
            quotes.setdefault(item.hit.article_id, []).append(item)
            parts.append(f"{item.text} [{n}]")
        citations = [self._citation(n, quotes[article_id]) for article_id, n in numbers.items()]
        return Answer(" ".join(parts), citations=citations, language=language)

    def _citation(self, n: int, items: list[Evidence]) -> Citation:
        best, *others = items  # already in score order
        hit = best.hit
        return Citation(n=n, article_id=hit.article_id, title=hit.title, source=hit.source, published=hit.published,
                        url=hit.url, author=hit.author, quote=best.text, start=best.start, end=best.end,
                        more_quotes=tuple((e.start, e.end, e.text) for e in others))


_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
MIN_CLAIM_SUPPORT = 0.5
"""Share of an answer sentence's (IDF-weighted) terms that its cited sentence must contain."""


def verify_citations(raw: str, sources: list[tuple[Hit, int, int, str]], language: str) -> Answer:
    """Check an LLM answer against its sources: markers that point nowhere are removed,
    each sentence must be supported by a sentence of a source it cites (else it is
    dropped), sources are renumbered in order of first citation, and each citation
    quotes the supporting sentence verbatim with its offsets."""
    kept: list[str] = []
    numbers: dict[int, int] = {}  # source index -> new number
    quotes: dict[int, list[tuple[int, int, str]]] = {}
    for sentence_start, sentence_end in sentence_spans(raw):
        sentence = raw[sentence_start:sentence_end]
        cited = {int(n) for group in _MARKER.findall(sentence) for n in re.split(r"\s*,\s*", group)}
        claim = _MARKER.sub("", sentence).strip()
        supported: list[tuple[int, tuple[int, int, str]]] = []
        for n in sorted(cited):
            if 1 <= n <= len(sources):
                quote = _best_support(claim, sources[n - 1])
                if quote is not None:
                    supported.append((n - 1, quote))
        if not supported or not claim:
            continue
        marks = []
        for index, quote in supported:
            number = numbers.setdefault(index, len(numbers) + 1)
            if quote not in quotes.setdefault(index, []):
                quotes[index].append(quote)
            marks.append(f"[{number}]")
        kept.append(f"{claim.rstrip()} {''.join(marks)}")
    citations = []
    for index, number in sorted(numbers.items(), key=lambda item: item[1]):
        hit = sources[index][0]
        (start, end, text), *more = quotes[index]
        citations.append(Citation(n=number, article_id=hit.article_id, title=hit.title, source=hit.source,
                                  published=hit.published, url=hit.url, author=hit.author, quote=text,
                                  start=start, end=end, more_quotes=tuple(more)))
    return Answer(" ".join(kept), citations=citations, language=language)


def _best_support(claim: str, source: tuple[Hit, int, int, str]) -> tuple[int, int, str] | None:
    """The sentence of `source` that best supports `claim`, if it covers enough of it."""
    _, offset, _, context = source
    terms = set(analyze(claim))
    if not terms:
        return None
    best, best_share = None, 0.0
    for s, e in sentence_spans(context):
        share = len(terms.intersection(analyze(context[s:e]))) / len(terms)
        if share > best_share:
            best, best_share = (offset + s, offset + e, context[s:e]), share
    return best if best_share >= MIN_CLAIM_SUPPORT else None


def _pieces(text: str) -> Iterator[str]:
    """Word-sized pieces, for streaming an answer that is already complete."""
    for match in re.finditer(r"\S+\s*", text):
        yield match.group()
