"""The bundled multilingual-e5-small on ONNX Runtime: exported once from the converted
checkpoint (e5_checkpoint.py) into rag's cache, then run without torch.

    fp32  `torch.onnx.export` of the float32 checkpoint (TorchScript exporter, opset 17):
          the same vectors as sentence-transformers on torch (cosine 1.0000), and a single
          query in about half the time; this is what `e5:bundled` runs (e5.py).
    int8  `onnxruntime.quantization.quantize_dynamic` of the fp32 export (int8 weights, one
          scale per output channel, activations quantised on the fly): a second step, run
          only when asked for (`e5:bundled-int8`, its own id: its vectors differ, cosine ~0.99).

Each export is a folder (`model.onnx`, the checkpoint's `tokenizer.json`, a `rag-onnx.json`
stamp naming the checkpoint it came from), written into a temporary folder and renamed
into place, so an interrupted build leaves nothing that is used; a folder whose stamp does
not match the current checkpoint is rebuilt. Exporting needs torch, transformers and the
`onnx` package; running needs only `onnxruntime` and `tokenizers`.

The runner does what the sentence-transformers model does (its modules.json: Transformer,
mean Pooling, Normalize): XLM-R tokens with <s> ... </s>, truncated at 512, mean over the
attention mask of the last hidden state, L2 normalisation; texts are sorted by length so
that a batch pads little.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbedderError
from .base import Embedder, normalize
from .e5_checkpoint import PASSAGE_PREFIX, QUERY_PREFIX

log = logging.getLogger(__name__)

EXPORT_VERSION = 1
"""Bump when an exported folder changes; a folder of another version is rebuilt."""
FP32_NAME = "multilingual-e5-small-bundled-onnx"
INT8_NAME = "multilingual-e5-small-bundled-onnx-int8"
THREADS = 2
"""ONNX Runtime intra-op threads (the 2 cores of the machines this runs on)."""
BATCH_TOKENS = 4096
"""Padded tokens per ONNX Runtime call (e.g. 16 chunks of 256 tokens, 128 sentences of 32)."""
MAX_BATCH = 128
_STAMP = "rag-onnx.json"
_MODEL = "model.onnx"
_TOKENIZER = "tokenizer.json"


# ------------------------------------------------------------------ building the exports

def _checkpoint_stamp(checkpoint: Path) -> dict[str, Any]:
    try:
        return json.loads((checkpoint / "rag-checkpoint.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError) as err:
        raise EmbedderError(f"{checkpoint} is not a converted e5 checkpoint ({err})") from err


def _stamp(checkpoint: Path, kind: str) -> dict[str, Any]:
    return {"version": EXPORT_VERSION, "kind": kind, "checkpoint": str(checkpoint),
            "checkpoint_stamp": _checkpoint_stamp(checkpoint)}


def export_current(folder: Path, checkpoint: Path, kind: str) -> bool:
    """Whether `folder` holds a finished `kind` export of the checkpoint as it is now."""
    try:
        stamp = json.loads((folder / _STAMP).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    expected = _stamp(checkpoint, kind)
    same = all(stamp.get(key) == expected[key] for key in ("version", "kind", "checkpoint_stamp"))
    return same and (folder / _MODEL).is_file() and (folder / _TOKENIZER).is_file()


def _build(folder: Path, checkpoint: Path, kind: str, write: Callable[[Path], None]) -> Path:
    """Run `write(tmp)` into a temporary sibling of `folder`, stamp it, rename it into place."""
    if export_current(folder, checkpoint, kind):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(folder)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        started = time.perf_counter()
        write(tmp)
        shutil.copyfile(checkpoint / _TOKENIZER, tmp / _TOKENIZER)
        (tmp / _STAMP).write_text(json.dumps(_stamp(checkpoint, kind), indent=2))
        if folder.exists():  # an older or half-written export
            shutil.rmtree(folder)
        try:
            os.rename(tmp, folder)
        except OSError:  # another process finished first
            if not export_current(folder, checkpoint, kind):
                raise
        log.info("e5 %s ONNX export ready in %s (%.0f MB, %.1f s)", kind, folder,
                 (folder / _MODEL).stat().st_size / 1e6, time.perf_counter() - started)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _remove_abandoned(folder: Path) -> None:
    """Delete the temporary folders of builds whose process is gone (killed mid-export)."""
    for tmp in folder.parent.glob(f".{folder.name}.tmp-*"):
        pid = tmp.name.rpartition("-")[2]
        if not pid.isdigit() or not _alive(int(pid)):
            log.info("removing %s, left by an interrupted export", tmp)
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def build_fp32(folder: Path, checkpoint: Path) -> Path:
    """The fp32 export of `checkpoint` in `folder` (exported now unless current there)."""

    def write(tmp: Path) -> None:
        log.info("exporting the converted multilingual-e5-small %s to ONNX in %s, once (tens of seconds)",
                 checkpoint, folder)
        export_onnx(checkpoint, tmp / _MODEL)

    return _build(folder, checkpoint, "fp32", write)


def build_int8(folder: Path, fp32_folder: Path, checkpoint: Path) -> Path:
    """The int8 quantisation of the fp32 export (built first if needed) in `folder`."""
    build_fp32(fp32_folder, checkpoint)

    def write(tmp: Path) -> None:
        try:
            from onnxruntime.quantization import QuantType, quantize_dynamic
        except ImportError as err:
            raise EmbedderError(f"int8 quantisation needs onnxruntime and onnx: pip install onnx ({err})") from err
        log.info("quantising the e5 ONNX export to int8 (per channel) in %s, once", folder)
        quiet = _QuietQuantizer()
        root = logging.getLogger()  # the quantiser logs a line per tensor on the root logger
        root.addFilter(quiet)
        try:
            quantize_dynamic(fp32_folder / _MODEL, tmp / _MODEL, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.removeFilter(quiet)

    return _build(folder, checkpoint, "int8", write)


class _QuietQuantizer(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or "quantization" not in record.pathname


def export_onnx(checkpoint: Path, target: Path) -> None:
    """`torch.onnx.export` of the checkpoint's XLM-R encoder: (input_ids, attention_mask) ->
    last_hidden_state, batch and sequence dynamic. Eager attention, traced on a padded batch,
    so that the mask is part of the graph."""
    try:
        import onnx  # noqa: F401  (the TorchScript exporter writes through it)
        import torch
        from transformers import AutoModel
    except ImportError as err:
        raise EmbedderError(f"exporting e5 to ONNX needs torch, transformers and onnx: pip install onnx ({err})") from err

    model = AutoModel.from_pretrained(str(checkpoint), attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.tensor([[0, 1294, 12, 35378, 8999, 2], [0, 1294, 12, 35378, 2, 1]])  # <s> ... </s> <pad>
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]])
    axes = {0: "batch", 1: "tokens"}
    # The tracer warns about Python branches on shapes (traced here on a padded batch, so
    # the mask stays in the graph) and about the exporter's age: noise for a user.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Encoder(), (ids, mask), str(target), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                          do_constant_folding=True)


# ------------------------------------------------------------------ running

class OnnxE5Embedder(Embedder):
    """multilingual-e5-small from an export folder on ONNX Runtime (CPU, `threads` intra-op)."""

    def __init__(self, folder: Path, *, id: str, description: str, threads: int = THREADS,
                 max_tokens: int = 512) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as err:
            raise EmbedderError(f"the ONNX e5 runner needs onnxruntime: pip install onnxruntime ({err})") from err
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        try:
            self._session = ort.InferenceSession(str(folder / _MODEL), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise EmbedderError(f"ONNX Runtime cannot load {folder / _MODEL}: {err}") from err
        self._tokenizer = Tokenizer.from_file(str(folder / _TOKENIZER))
        pad, eos = self._tokenizer.token_to_id("<pad>"), self._tokenizer.token_to_id("</s>")
        if pad is None or eos is None:
            raise EmbedderError(f"{folder / _TOKENIZER} is not XLM-R's tokenizer (no <pad> or </s>): delete {folder}")
        self._pad, self._eos = pad, eos
        self._specials = len(self._tokenizer.encode("", add_special_tokens=True).ids)
        self.id, self.description, self.model_path = id, description, str(folder)
        self.dimension = int(self._session.get_outputs()[0].shape[-1] or 384)
        self.max_tokens = max_tokens
        self.threads = threads
        self.batch_tokens = BATCH_TOKENS
        self.query_prefix, self.passage_prefix = QUERY_PREFIX, PASSAGE_PREFIX

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(self.passage_prefix + text, add_special_tokens=False).ids) + self._specials

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.passage_prefix + t for t in texts])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.query_prefix + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        ids = [e.ids for e in self._tokenizer.encode_batch(texts, add_special_tokens=True)]
        ids = [x if len(x) <= self.max_tokens else x[:self.max_tokens - 1] + [self._eos] for x in ids]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):
            # Sorted by length: the batch's last text is its longest, so padding is small.
            end = start + 1
            while end < len(order) and end - start < MAX_BATCH and len(ids[order[end]]) * (end + 1 - start) <= self.batch_tokens:
                end += 1
            part = order[start:end]
            out[part] = self._pool([ids[i] for i in part])
            start = end
        return normalize(out)

    def _pool(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in batch)
        input_ids = np.full((len(batch), width), self._pad, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, x in enumerate(batch):
            input_ids[row, :len(x)] = x
            mask[row, :len(x)] = 1
        hidden = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        # sentence-transformers' mean Pooling: masked sum over the mask's count (clamped).
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
