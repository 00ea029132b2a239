"""Answers with citations a reader can check: `Assistant.ask(question) -> Answer`.

Offline (no LLM configured, or the LLM unreachable) the answer is extractive: the few
sentences of the retrieved articles that best answer the question (evidence.py), each
followed by its source number. With an LLM (see llm.py) the model writes the answer from
numbered, delimited sources, and every sentence it writes is checked against the sources
(citations.py). Either way:
  - every `[n]` points at a source that was given, and only cited sources are listed;
  - each citation's `quote` is the exact sentence(s) of the article, with offsets;
  - a sentence whose cited source does not support it is dropped;
  - when the best evidence is too weak, the answer says the articles do not cover it.

This module holds the assistant (search, choose, write) and its `Answer`; the scoring is
in evidence.py, the citation values and checks in citations.py.

Left out: the UI (ui.py, webapp.py) and which chat model is used (llm.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from .chunks import sentence_spans
from .citations import AnswerSentence, Citation, Citer, Span, dated_notice, verify_citations
from .evidence import (
    DEFAULT_MIN_CROSS_LINGUAL_SUPPORT,
    MAX_CANDIDATES,
    MAX_CROSS_LINGUAL_CANDIDATES,
    PHRASES,
    Candidate,
    Evidence,
    Question,
    check_question,
    coverage,
    fitted_scorer,
    question_language,
    rank_cross_lingual,
    rank_evidence,
)
from .lexical import analyze
from .quotes import dateline_end, resolve_dates
from .search import Context, Filters, Hit, Retrieval, Searcher
from .settings import DEFAULT_K, Settings
from .slots import asked_slot

CONTEXT_RADIUS = 1
"""Neighbour chunks each side of a hit's chunk that the answer's sentences are chosen from."""
_FOLLOW_UP = frozenset("itu tersebut dia ia mereka beliau sana situ tadi it its they them their he she his her that "
                       "those there this".split())


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
    dates: list[str] = field(default_factory=list)
    """For a question that asks when: the quotes' relative days resolved against their articles'
    dates, each with its citation ("Sabtu (13 Agustus 2022) [1]"); the quotes stay verbatim."""

    def span(self, n: int, index: int) -> Span:
        """The span `index` of citation `n`."""
        return next(c for c in self.citations if c.n == n).spans[index]

    def to_json(self) -> dict[str, Any]:
        """The answer as data (`rag ask --json`, the UI's /ask): `citations` each with `spans`
        [{quote, start, end}, ...] (the first also as `quote`/`start`/`end`), and `sentences`
        [{text, citations: [{n, span, quote, start, end}, ...]}, ...]."""
        citations = [c.to_json() for c in self.citations]
        sentences = [{"text": sentence.text,
                      "citations": [{"n": n, "span": index, **asdict(self.span(n, index))}
                                    for n, index in sentence.cites]} for sentence in self.sentences]
        return {"answer": self.text, "citations": citations, "refused": self.refused, "language": self.language,
                "notice": self.notice, "query": self.query, "sentences": sentences, "mode": self.mode,
                "fallback_reason": self.fallback_reason, "dates": self.dates}




def open_assistant(settings: Settings, k: int = DEFAULT_K, searcher: Searcher | None = None) -> Assistant:
    """The configured index (folder or Chroma server; or `searcher`) and LLM (None: extractive answers)."""
    from .llm import load_chat_model, parse_spec
    from .store import open_index

    llm = load_chat_model(settings.llm, openai_base_url=settings.openai_base_url, openai_api_key=settings.openai_api_key,
                          ollama_base_url=settings.ollama_url, timeout_s=settings.llm_timeout_s,
                          models_dir=settings.models_dir, llm_threads=settings.llm_threads,
                          llm_context=settings.llm_context, max_tokens=settings.llm_max_tokens,
                          hf_offline=settings.hf_hub_offline)
    parsed = parse_spec(settings.llm)
    # A local model reads prompts at ~40 tokens/s on 2 cores: it gets each source's best chunk
    # only, not the chunk with its neighbours (README "Local model").
    radius = 0 if parsed is not None and parsed[0] == "llamacpp" else 1
    return Assistant(searcher or Searcher.open(open_index(settings)), llm=llm, k=k, min_support=settings.min_support,
                     llm_name=":".join(parsed) if parsed else None, llm_source_radius=radius,
                     llm_timeout_s=settings.llm_timeout_s)



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
                 min_support: float | None = None,
                 min_cross_lingual_support: float = DEFAULT_MIN_CROSS_LINGUAL_SUPPORT, llm_name: str | None = None,
                 llm_source_radius: int = 1, llm_timeout_s: float = 60.0) -> None:
        self.searcher = searcher
        # The index's stems, saved when it was built: scoring sentences stems their words,
        # and Sastrawi takes ~1 ms for a word it has not seen.
        searcher.load_saved_stems()
        self.llm = llm
        self.k = k
        self.max_sentences = max_sentences
        self.min_support = fitted_scorer().min_support if min_support is None else min_support
        """The lowest answer probability answered (default: the fitted scorer's threshold)."""
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
        # One pass: the question is embedded once and each hit's context read once (one request).
        found = self.searcher.retrieve(query, k=self.k, filters=filters, as_of=as_of, context_radius=CONTEXT_RADIUS)
        hits = found.hits
        if not hits:
            answer = Answer(PHRASES[language]["no_articles"], refused=True, language=language, query=query)
            yield answer.text
            yield answer
            return
        evidence = self.evidence(query, found, language)
        if not self.answerable(evidence):
            answer = Answer(PHRASES[language]["refusal"], refused=True, language=language, query=query)
            yield answer.text
            yield answer
            return
        if self.llm is not None:
            yield from self._generate(question, query, found, evidence, language)
            return
        answer = self.extractive(evidence, language, found, query)
        answer.query = query
        self._note_if_dated(answer, question)
        for piece in _pieces(answer.text):
            yield piece
        yield answer

    # ------------------------------------------------------------ with an LLM

    def _generate(self, question: str, query: str, found: Retrieval, evidence: list[Evidence],
                  language: str) -> Iterator[str | Answer]:
        from .llm import failure_reason
        from .prompts import REFUSAL_SENTINEL, answer_messages

        assert self.llm is not None  # only called with a model (internal invariant, not input)

        contexts = self._contexts(found, self.llm_source_radius)
        sources = [(hit, *contexts[hit.article_id, hit.chunk_index]) for hit in found.hits]
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
            answer = self.extractive(evidence, language, found, query)
            answer.notice, answer.query = notice, query
            answer.mode, answer.fallback_reason = "extractive_fallback", reason
            yield answer
            return
        raw = "".join(produced).strip()
        if REFUSAL_SENTINEL in raw:
            yield Answer(PHRASES[language]["refusal"], refused=True, language=language, query=query,
                         mode=self.llm_name or "llm")
            return
        checked = verify_citations(raw, sources)
        answer = Answer(checked.text, citations=checked.citations, language=language, sentences=checked.sentences,
                        mode=self.llm_name or "llm")
        if not answer.citations:  # nothing the model wrote could be checked against a source
            answer = self.extractive(evidence, language, found, query)
            answer.notice = PHRASES[language]["unverified"]
            answer.mode, answer.fallback_reason = "extractive_fallback", "llm_unverified"
        answer.query = query
        self._note_if_dated(answer, question)
        yield answer

    # ------------------------------------------------------------ evidence

    def evidence(self, query: str, found: Retrieval | list[Hit], language: str = "id") -> list[Evidence]:
        """Sentences of the hits (a search's `Retrieval`, or hits alone), the likeliest to hold
        the answer first."""
        hits = found.hits if isinstance(found, Retrieval) else found
        idf = self.searcher.lexical.idf
        # Across languages only names and numbers can match (see Question.parse).
        parsed = {lang: Question.parse(query, idf, cross_lingual=lang != language) for lang in ("id", "en")}
        # Long articles are cut to the sentences that share most of the question's words as
        # the top article's language can match them: across languages, its names.
        cross_lingual = self._language(hits[0]) != language
        question = parsed[self._language(hits[0])]
        retrieval = found if isinstance(found, Retrieval) else Retrieval(query, hits)
        dense: np.ndarray | None = None
        if cross_lingual:  # rests on the sentences' similarity: the few sharing most names are embedded
            candidates, dense = self.candidates(query, retrieval, question, limit=MAX_CROSS_LINGUAL_CANDIDATES)
        elif fitted_scorer().uses_dense:
            candidates, dense = self.candidates(query, retrieval, question)
        else:  # nothing to embed: every sentence is scored (README "Answers": what embedding them added)
            candidates = self.sentences(retrieval)
        if not candidates:
            return []
        languages = [self._language(c.hit) for c in candidates]
        if cross_lingual:
            assert dense is not None
            return rank_cross_lingual(query, language, languages, candidates, dense, idf)
        return rank_evidence([parsed[lang] for lang in languages], candidates, dense, self.searcher.embedder.id)

    def answerable(self, evidence: list[Evidence]) -> bool:
        """Whether the best sentence is likely enough to answer (else the answer is a refusal)."""
        if not evidence:
            return False
        if evidence[0].cross_lingual:
            return max(e.support for e in evidence) >= self.min_cross_lingual_support
        return evidence[0].support >= self.min_support

    def _language(self, hit: Hit) -> str:
        return "en" if self.searcher.articles.get(hit.article_id, {}).get("language", "id") == "en" else "id"

    def candidates(self, query: str, found: Retrieval | list[Hit], question: Question | None = None,
                   limit: int = MAX_CANDIDATES) -> tuple[list[Candidate], np.ndarray]:
        """The sentences of the hits (`sentences`) and their dense similarity to the query.
        Long articles give many sentences: only the `limit` whose neighbourhood shares most of
        the question's words are embedded (latency), when `question` is given. A `Retrieval`
        of `query` gives its contexts and query vector; hits alone are read and embedded here."""
        if not isinstance(found, Retrieval):
            found = Retrieval(query, found)
        candidates = self.sentences(found)
        if question is not None and len(candidates) > limit:
            candidates = sorted(candidates, key=lambda c: -coverage(question, set(analyze(c.window))))[:limit]
        if not candidates:
            return [], np.zeros(0, dtype=np.float32)
        vectors = self.searcher.embedder.encode_passages([c.text for c in candidates])
        vector = found.vector if found.vector is not None and found.query == query else None
        if vector is None:
            vector = self.searcher.embedder.encode_queries([query])[0]
        return candidates, vectors @ vector

    def sentences(self, found: Retrieval) -> list[Candidate]:
        """Every sentence (4+ words) of the hits' best chunks with a neighbour chunk each side,
        with its neighbours (`window`), in hit and article order; nothing embedded."""
        hits, contexts = found.hits, self._contexts(found, CONTEXT_RADIUS)
        candidates: list[Candidate] = []
        top = hits[0].score or 1.0 if hits else 1.0
        for rank, hit in enumerate(hits, start=1):
            start, _, context = contexts[hit.article_id, hit.chunk_index]
            spans = sentence_spans(context)
            for i, (s, e) in enumerate(spans):
                if len(context[s:e].split()) < 4:
                    continue
                window = context[spans[max(0, i - 1)][0]:spans[min(len(spans) - 1, i + 1)][1]]
                candidates.append(Candidate(hit, rank, hit.score / top, start + s, start + e, context[s:e], window))
        return candidates

    def _contexts(self, found: Retrieval, radius: int) -> dict[tuple[str, int], Context]:
        """Each hit's context at `radius`: the ones the search read, else read now (one request)."""
        keys = [(hit.article_id, hit.chunk_index) for hit in found.hits]
        if found.radius == radius and all(key in found.contexts for key in keys):
            return found.contexts
        return self.searcher.contexts(keys, radius)

    def extractive(self, evidence: list[Evidence], language: str, found: Retrieval | None = None,
                   query: str | None = None) -> Answer:
        """The best few sentences of `evidence`, each cited; `found` (the search the evidence
        came from) saves reading the best sentence's context again. Given the `query` searched,
        a quote starts after its dateline ("Jakarta (ANTARA) - ") unless the question asks where,
        and for a question that asks when, the relative days of the quotes ("Sabtu") are resolved
        against their articles' dates in the notice, beside the verbatim quotes (`Answer.dates`)."""
        chosen: list[Evidence] = []
        seen: set[str] = set()
        if evidence and not evidence[0].has_kind:
            evidence = [self._with_neighbour(evidence[0], evidence, found), *evidence[1:]]
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
        citer = Citer()
        parts = [PHRASES[language]["intro"]]
        sentences = []
        asks = asked_slot(query) if query else None
        where = query is not None and Question.parse(query, lambda t: 1.0).kind == "place"
        dates: list[str] = []
        for item in chosen:  # in score order: each article's first span is its best
            if query is not None and not where:
                item = _after_dateline(item)
            n, index = citer.cite(item.hit.article_id, item.hit, Span(item.text, item.start, item.end))
            parts.append(f"{item.text} [{n}]")
            sentences.append(AnswerSentence(item.text, ((n, index),)))
            if asks is not None and asks.kind == "time" and item.hit.published:
                published = datetime.fromisoformat(item.hit.published)
                dates += [f"{note.resolved} [{n}]" for note in resolve_dates(item.text, published)
                          if f"{note.resolved} [{n}]" not in dates]
        answer = Answer(" ".join(parts), citations=citer.citations(), language=language, sentences=sentences,
                        dates=dates)
        if dates:
            answer.notice = PHRASES[language]["dates"].format(dates="; ".join(dates))
        return answer

    def _with_neighbour(self, best: Evidence, evidence: list[Evidence], found: Retrieval | None = None) -> Evidence:
        """The best sentence matches the question but lacks what it asks for ("Kapan ...?"
        and no time in it): when the next (or previous) sentence of the article has it, as in
        "... meraih emas. Dia ... Rabu (10/8).", both are quoted together, one span."""
        same = {(e.start, e.end): e for e in evidence if e.hit.article_id == best.hit.article_id and e.has_kind}
        if not same:
            return best
        key = (best.hit.article_id, best.hit.chunk_index)
        known = found.contexts.get(key) if found is not None and found.radius == CONTEXT_RADIUS else None
        start, _, context = known or self.searcher.context(*key, radius=CONTEXT_RADIUS)
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

    @staticmethod
    def _note_if_dated(answer: Answer, question: str) -> None:
        """The notice of `dated_notice` on an answer that has no other notice."""
        if not answer.notice:
            answer.notice = dated_notice(answer.citations, question, answer.language) or answer.notice


def _after_dateline(item: Evidence) -> Evidence:
    """The sentence without its leading dateline ("Jakarta (ANTARA) - "): a shorter verbatim span."""
    cut = dateline_end(item.text)
    return replace(item, start=item.start + cut, text=item.text[cut:]) if cut else item


def _pieces(text: str) -> Iterator[str]:
    """Word-sized pieces, for streaming an answer that is already complete."""
    for match in re.finditer(r"\S+\s*", text):
        yield match.group()
