from __future__ import annotations

import pytest

from rag.articles import Article, read_sources
from rag.chunks import chunk_article, sentence_spans
from rag.embeddings.hashing import HashingEmbedder
from tests.conftest import SEED

count = HashingEmbedder().count_tokens


def test_sentence_spans_respect_abbreviations_and_decimals() -> None:
    text = "Prof. Dr. Budi Santoso tiba pukul 10.30 WIB. Ia disambut warga. Harga naik 2.5 persen!\nParagraf baru tanpa titik"
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "Prof. Dr. Budi Santoso tiba pukul 10.30 WIB.",
        "Ia disambut warga.",
        "Harga naik 2.5 persen!",
        "Paragraf baru tanpa titik",
    ]


@pytest.mark.parametrize("max_tokens,overlap", [(40, 0), (64, 12), (128, 40)])
def test_chunks_cover_the_article_within_budget(max_tokens: int, overlap: int) -> None:
    (article,) = read_sources([SEED]).articles
    chunks = chunk_article(article, count, max_tokens, overlap)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text == article.text[chunk.start:chunk.end]
        assert count(chunk.embedding_text()) <= max_tokens
        assert chunk.embedding_text().startswith(article.title)
    # Every word lands in some chunk, and chunks move forward.
    covered = set().union(*(range(c.start, c.end) for c in chunks))
    assert all(i in covered for i, ch in enumerate(article.text) if not ch.isspace())
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    if not overlap:
        assert all(b.start >= a.end for a, b in zip(chunks, chunks[1:]))


def test_overlap_repeats_whole_trailing_sentences() -> None:
    text = " ".join(f"Kalimat nomor {i} ada di sini." for i in range(40))
    article = Article(id="x", title="Judul", text=text)
    chunks = chunk_article(article, count, 40, 12)
    assert len(chunks) > 3
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end, "consecutive chunks share text"
        shared = article.text[b.start:a.end]
        assert shared.endswith(".") and shared[0].isupper(), "the shared part is whole sentences"
        assert count(shared) <= 12


def test_a_sentence_longer_than_the_budget_is_cut_at_words() -> None:
    words = " ".join(f"kata{i}" for i in range(300))
    article = Article(id="x", title="Judul", text=words + ". Kalimat pendek.")
    chunks = chunk_article(article, count, 50, 0)
    assert all(count(c.embedding_text()) <= 50 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == article.text.split()


def test_overlapping_chunks_join_back_into_the_article() -> None:
    from rag.tables import join_chunks

    (article,) = read_sources([SEED]).articles
    chunks = chunk_article(article, count, 48, 16)
    joined = join_chunks([(c.start, c.text) for c in reversed(chunks)])
    assert joined.split() == article.text.split()
