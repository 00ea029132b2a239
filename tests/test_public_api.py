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


def test_every_setting_is_documented_in_the_readme() -> None:
    import dataclasses
    import inspect
    import re
    from pathlib import Path

    from rag.settings import Settings

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    source = inspect.getsource(Settings)
    variables = set(re.findall(r"\b((?:RAG|OPENAI|HF)_[A-Z_]+|XDG_CACHE_HOME)\b", source))
    assert len(variables) >= len(dataclasses.fields(Settings)) - 1
    for variable in variables:
        assert f"`{variable}`" in readme, variable


def test_dir_lists_the_lazy_names() -> None:
    listed = dir(rag)
    for name in rag.__all__:
        assert name in listed, name
    assert "get_retriever" in listed and "Assistant" in listed


def test_one_question_check_for_every_interface() -> None:
    import pytest

    from rag.evidence import MAX_QUESTION_CHARS, check_question

    assert check_question("  Siapa Gubernur Tokyo?\n") == "Siapa Gubernur Tokyo?"
    for bad, problem in (("", "empty"), (" \t", "empty"), (None, "empty"), ("x" * (MAX_QUESTION_CHARS + 1), "too_long")):
        with pytest.raises(rag.BadQuestion) as info:
            check_question(bad)
        assert info.value.problem == problem and isinstance(info.value, rag.RagError)
