import subprocess
import sys

import rag


def test_all_names_are_importable() -> None:
    for name in rag.__all__:
        assert getattr(rag, name) is not None, name


def test_import_is_light() -> None:
    code = "import sys, rag; print(any(m.startswith(('chromadb', 'torch', 'sentence_transformers')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
