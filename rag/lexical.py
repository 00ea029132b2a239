"""Lexical (BM25) retrieval for Indonesian and English text: the keyword half of hybrid search.

`analyze` turns text into index terms; `LexicalIndex` scores documents with BM25 (Lucene
variant, k1=0.9, b=0.75: term weights are computed by bm25s at build time and kept as a
sparse term -> (doc, weight) matrix), so a query is a sum over a few posting lists: about
1 ms on 25,000 news articles. `allowed` masks restrict results to filtered documents.

The analyzer lowercases, keeps names and numbers (`COVID-19`, `GA-181`, `2,5`, `10.30`
are indexed joined and as their parts, so `GA - 181` still matches), drops Indonesian and
English function words and question words (all-capital acronyms such as AS and WHO are
kept), and stems Indonesian with Sastrawi, cached per word. Each option of
`AnalyzerConfig` was chosen by measurement on the FacQA and TyDi-id train/valid splits
(`python -m evals.lexical`, whose docstring lists the gains); the alternatives stay so that
evaluation can show why.

Left out on purpose: spelling correction, synonyms and query expansion, phrase or
proximity scoring, English stemming (Sastrawi is Indonesian-only; English words pass
through it unchanged), and incremental updates: an index is rebuilt from all texts.
Cost: Sastrawi takes ~1 ms per unique word, so a cold build of 3,500 IndoSum articles
(50,000 distinct words) takes ~16 s, a rebuild in the same process ~3 s.
"""

from __future__ import annotations

import logging

import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import IndexMismatch, IndexNotFound

FORMAT_VERSION = 1
META_FILE = "lexical.json"

# A token is a word, optionally joined to more words by hyphens (COVID-19, GA-181,
# Bau-Bau) or, between digits only, by . , : / (2,5  10.30  1.000.000  24/7). Sentence
# punctuation between letters (`akhir.Kemudian`) therefore never glues two words.
_TOKEN = re.compile(r"\w+(?:(?:-|(?<=\d)[.,:/](?=\d))\w+)*")
_PART = re.compile(r"[^\W_]+")

# Function words only. Sastrawi's own list (809 words) also drops content words that
# factoid questions ask about (bulan, hari, tiga, jumlah, orang, pertama), so it is
# offered as an option, not the default.
STOPWORDS_ID = frozenset("""
ada adalah adanya agar akan aku anda antara atas atau bagi bahwa bahkan beberapa begitu
belum bisa dalam dan dapat dari daripada demi dengan di dia ia ini itu jika juga kami kamu
karena ke kepada kita lagi lalu maka masih mereka namun nya oleh pada para pun saat saja
sangat saya se sebagai sebuah sedang sehingga sejak seorang seperti serta setelah sudah
supaya tak telah tentang terhadap tersebut tetapi tidak untuk walau yaitu yakni yang
""".split())
# English function words, for English questions about Indonesian text (without them
# `the`/`of` match English titles quoted in Indonesian passages). Words that are also
# names or Indonesian (May, Will, Can, i as a Roman numeral) are left out; `as` and `who`
# are safe because acronyms (AS = Amerika Serikat, WHO) are kept, see `analyze`.
STOPWORDS_EN = frozenset("""
a about after also an and are as at be been before being between both but by could did do
does doing during each for from had has have having he her him his if in into is it its me
more most my not of off on only or other our out over same she should so some such than
that the their them then there these they this those to too under until up us very was we
were while with would you your
""".split())
# Interrogatives name the kind of answer, never a word of the passage that holds it.
QUESTION_WORDS = frozenset("""
apa apakah siapa siapakah kapan kapankah berapa berapakah dimana dimanakah manakah mana
mengapa kenapa bagaimana bagaimanakah what who whom whose when where which why how
""".split())


@dataclass(frozen=True)
class AnalyzerConfig:
    """How text becomes terms; stored with the index so queries are analyzed the same way."""

    compounds: str = "both"        # "parts" (\w+ only), "joined" (COVID-19 as one), "both"
    stem: bool = True              # Sastrawi stemming of alphabetic Indonesian words
    stopwords: str = "light"       # "none", "light" (STOPWORDS_ID), "sastrawi" (809 words)
    english_stopwords: bool = True
    question_words: bool = True    # drop QUESTION_WORDS (harmless in documents: rare there)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> AnalyzerConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})  # type: ignore[arg-type]


DEFAULT_ANALYZER = AnalyzerConfig()
DEFAULT_K1 = 0.9
DEFAULT_B = 0.75


@lru_cache(maxsize=1)
def _stemmer():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory  # loads a dictionary: lazily

    return StemmerFactory().create_stemmer()


_STEMS: dict[str, str] = {}


def stem(word: str) -> str:
    """Sastrawi stem of one lowercase word; about 1 ms uncached, so each word is stemmed
    once per process, and `load_stems`/`save_stems` carry the cache across runs."""
    cached = _STEMS.get(word)
    if cached is None:
        # Numbers, codes and short words are never inflected.
        cached = word if not word.isalpha() or len(word) <= 3 else (_stemmer().stem(word) or word)
        _STEMS[word] = cached
    return cached


def load_stems(path: Path) -> int:
    """Add a saved stem cache (word -> stem JSON) to this process's; returns its size."""
    try:
        _STEMS.update(json.loads(Path(path).read_text(encoding="utf-8")))
    except (FileNotFoundError, json.JSONDecodeError, AttributeError):
        pass
    return len(_STEMS)


def stems_known() -> int:
    return len(_STEMS)


def save_stems(path: Path) -> None:
    """Write this process's stem cache atomically (a cache: losing it only costs time)."""
    tmp = Path(f"{path}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(_STEMS, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


@lru_cache(maxsize=8)
def _dropped(config: AnalyzerConfig) -> frozenset[str]:
    drop: set[str] = set()
    if config.stopwords == "light":
        drop |= STOPWORDS_ID
    elif config.stopwords == "sastrawi":
        from Sastrawi.StopWordRemover.StopWordRemoverFactory import StopWordRemoverFactory

        drop |= set(StopWordRemoverFactory().get_stop_words())
    elif config.stopwords != "none":
        raise ValueError(f"unknown stopwords option {config.stopwords!r}")
    if config.english_stopwords:
        drop |= STOPWORDS_EN
    if config.question_words:
        drop |= QUESTION_WORDS
    return frozenset(drop)


def analyze(text: str, config: AnalyzerConfig = DEFAULT_ANALYZER) -> list[str]:
    """Terms of `text`, in order: lowercased, compounds split per config, stopwords dropped
    (before stemming, so a stopword list of surface forms works), then stemmed."""
    if config.compounds not in ("parts", "joined", "both"):
        raise ValueError(f"unknown compounds option {config.compounds!r}")
    drop = _dropped(config)
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        # An all-capitals word is an acronym (AS, WHO, IT), never a stopword or question word.
        keep_all = len(match.group()) > 1 and match.group().isupper()
        token = match.group().lower()
        parts = _PART.findall(token)
        if len(parts) == 1 and parts[0] == token:
            words = parts
        elif config.compounds == "parts":
            words = parts
        elif config.compounds == "joined":
            words = [token]
        else:  # joined form for exact matches, parts for the spaced-out or partial spelling
            words = [token, *parts]
        for word in words:
            if word in drop and not keep_all:
                continue
            out.append(stem(word) if config.stem else word)
    return out


class LexicalIndex:
    """BM25 over a fixed list of texts; documents are addressed by their position."""

    def __init__(self, ids: list[str], vocab: dict[str, int], data: np.ndarray, indices: np.ndarray,
                 indptr: np.ndarray, analyzer_config: AnalyzerConfig, k1: float, b: float) -> None:
        # CSC layout from bm25s: the postings of term t are indices/data[indptr[t]:indptr[t+1]].
        self.ids = ids
        self.vocab = vocab
        self.data, self.indices, self.indptr = data, indices, indptr
        self.analyzer_config = analyzer_config
        self.k1, self.b = k1, b

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, texts: Sequence[str], ids: Sequence[str],
              analyzer_config: AnalyzerConfig = DEFAULT_ANALYZER,
              k1: float = DEFAULT_K1, b: float = DEFAULT_B) -> LexicalIndex:
        if len(texts) != len(ids):
            raise ValueError(f"{len(texts)} texts but {len(ids)} ids")
        tokens = [analyze(text or "", analyzer_config) for text in texts]
        vocab: dict[str, int] = {}
        data = np.zeros(0, dtype=np.float32)
        indices = np.zeros(0, dtype=np.int32)
        indptr = np.zeros(1, dtype=np.int32)
        if any(tokens):  # bm25s cannot build from an empty vocabulary
            import bm25s

            # bm25s sets its own logger to DEBUG when imported; its one message is noise to users.
            logging.getLogger("bm25s").setLevel(logging.WARNING)

            model = bm25s.BM25(k1=k1, b=b, method="lucene")
            model.index(tokens, create_empty_token=False, show_progress=False)
            vocab = {str(t): int(i) for t, i in model.vocab_dict.items()}
            data = np.asarray(model.scores["data"], dtype=np.float32)
            indices = np.asarray(model.scores["indices"], dtype=np.int32)
            indptr = np.asarray(model.scores["indptr"], dtype=np.int64)
        return cls(list(map(str, ids)), vocab, data, indices, indptr, analyzer_config, k1, b)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Up to `k` (doc index, BM25 score), best first; ties go to the lower index.
        Only documents sharing a term with the query appear, and only `allowed` ones."""
        if allowed is not None:
            allowed = np.asarray(allowed)
            if allowed.dtype != bool or allowed.shape != (len(self),):
                raise ValueError(f"allowed must be a boolean array of length {len(self)}")
        term_ids = [self.vocab[t] for t in analyze(query or "", self.analyzer_config) if t in self.vocab]
        if k <= 0 or not term_ids:
            return []
        starts, ends = self.indptr[term_ids], self.indptr[np.asarray(term_ids) + 1]
        docs = np.concatenate([self.indices[s:e] for s, e in zip(starts, ends)])
        weights = np.concatenate([self.data[s:e] for s, e in zip(starts, ends)])
        # A repeated query term counts again, as in bm25s; bincount beats np.add.at ~10x.
        scores = np.bincount(docs, weights=weights, minlength=len(self))
        # Every posting weight is > 0 (Lucene IDF is positive), so nonzero = matched.
        candidates = np.flatnonzero(scores)
        if allowed is not None:
            candidates = candidates[allowed[candidates]]
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        order = np.lexsort((candidates, -scores[candidates]))
        return [(int(d), float(scores[d])) for d in candidates[order]]

    def idf(self, term: str) -> float:
        """Lucene's IDF of an analyzed term; a term no document has gets the highest value,
        since a question about it cannot be answered from these documents."""
        i = self.vocab.get(term)
        df = 0 if i is None else int(self.indptr[i + 1] - self.indptr[i])
        n = len(self)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    # ------------------------------------------------------------ persistence

    def save(self, folder: Path) -> None:
        """Write the index into `folder`; the meta file goes last, so a half-written index
        is seen as missing rather than read."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / META_FILE).unlink(missing_ok=True)
        for name in ("data", "indices", "indptr"):
            np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(self, name)))
        terms = [""] * len(self.vocab)
        for term, i in self.vocab.items():
            terms[i] = term
        (folder / "vocab.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        (folder / "ids.json").write_text(json.dumps(self.ids, ensure_ascii=False), encoding="utf-8")
        meta = {"format": "rag-lexical", "version": FORMAT_VERSION, "analyzer": self.analyzer_config.to_dict(),
                "bm25": {"k1": self.k1, "b": self.b, "method": "lucene"}, "num_docs": len(self),
                "num_terms": len(self.vocab)}
        tmp = folder / (META_FILE + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        os.replace(tmp, folder / META_FILE)

    @classmethod
    def load(cls, folder: Path, analyzer_config: AnalyzerConfig | None = None) -> LexicalIndex:
        """Open a saved index; the arrays are memory-mapped, so this costs the JSON reads.
        Raises IndexMismatch when the format version or (if given) the analyzer differs."""
        folder = Path(folder)
        meta_path = folder / META_FILE
        if not meta_path.exists():
            raise IndexNotFound(f"no lexical index in {folder}: run `rag index`")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != "rag-lexical" or meta.get("version") != FORMAT_VERSION:
            raise IndexMismatch(f"lexical index in {folder} has format version {meta.get('version')!r}, "
                                f"this rag reads {FORMAT_VERSION}: run `rag index --rebuild`")
        saved = AnalyzerConfig.from_dict(meta["analyzer"])
        if saved.to_dict() != meta["analyzer"] or (analyzer_config is not None and analyzer_config != saved):
            raise IndexMismatch(f"lexical index in {folder} was built with analyzer {meta['analyzer']}, "
                                f"not {(analyzer_config or saved).to_dict()}: run `rag index --rebuild`")
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ("data", "indices", "indptr")}
        terms = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        if len(ids) != meta["num_docs"] or len(terms) != meta["num_terms"]:
            raise IndexMismatch(f"lexical index in {folder} is incomplete: run `rag index --rebuild`")
        vocab = {term: i for i, term in enumerate(terms)}
        return cls(ids, vocab, arrays["data"], arrays["indices"], arrays["indptr"], saved,
                   float(meta["bm25"]["k1"]), float(meta["bm25"]["b"]))
