from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main
from tests.conftest import REPO
from tests.corpus import write_bad_inputs


@pytest.mark.parametrize("command", [[], ["index"], ["search"], ["ask"], ["eval"]])
def test_help_on_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: rag" in capsys.readouterr().out


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_EMBEDDING_MODEL": "hash:64",
            "HF_HUB_OFFLINE": "1"}


def _rag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A real `rag` process: for what is about the process (its exit status)."""
    return subprocess.run([sys.executable, "-m", "rag", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_index_json_summary_and_search_json(tmp_path: Path, articles_dir: Path, rag_main) -> None:
    write_bad_inputs(articles_dir, big_file_mb=11)
    env = _env(tmp_path)
    done = rag_main("index", "--source", str(articles_dir), "--json", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) >= {"articles", "chunks", "embedded", "skipped_files", "seconds", "embedder"}
    assert set(summary["articles"]) == {"added", "updated", "removed", "unchanged", "kept", "skipped"}
    assert summary["articles"]["added"] == 4  # the seed + cp1252, utf16, invalid_utf8
    assert summary["articles"]["skipped"] == len(summary["skipped_files"]) >= 7
    assert all(set(s) == {"path", "reason"} for s in summary["skipped_files"])
    assert summary["embedder"] == "hash:64" and summary["embedded"] == summary["chunks"]

    strict = rag_main("index", "--source", str(articles_dir), "--strict", env=env)
    assert strict.returncode == 4 and "skipped" in strict.stderr

    found = rag_main("search", "Anies Gubernur Tokyo", "-k", "2", "--json", env=env)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert set(hits[0]) >= {"article_id", "title", "source", "published", "url", "author", "chunk_index", "text", "score"}
    assert hits[0]["source"] == "ANTARA"


def test_search_without_index_says_how_to_build_it(tmp_path: Path) -> None:
    done = _rag("search", "apa saja", env=_env(tmp_path))
    assert done.returncode == 1
    assert "rag index" in done.stderr and "Traceback" not in done.stderr


def test_second_writer_exits_at_once_with_a_clear_message(tmp_path: Path, articles_dir: Path) -> None:
    from rag.indexer import writer_lock
    from rag.store import IndexDir

    with writer_lock(IndexDir(tmp_path / "index")):
        done = _rag("index", "--source", str(articles_dir), env=_env(tmp_path))
    assert done.returncode == 3
    assert "another `rag index`" in done.stderr and "Traceback" not in done.stderr


def test_ask_json_has_the_documented_shape(tmp_path: Path, articles_dir: Path, rag_main) -> None:
    env = {**_env(tmp_path), "RAG_EMBEDDING_MODEL": "hash:256"}
    assert rag_main("index", "--source", str(articles_dir), env=env).returncode == 0
    done = rag_main("ask", "Kapan Anies pertama kali bertemu Gubernur Koike?", "--json", env=env)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) >= {"answer", "citations", "refused"} and answer["refused"] is False
    assert set(answer["citations"][0]) >= {"n", "article_id", "title", "source", "published", "url", "quote"}
    assert set(answer["citations"][0]) >= {"start", "end", "spans"} and set(answer["sentences"][0]) == {"text", "citations"}
    body = (articles_dir / "antara-2022-08-13-anies-kunjungi-jepang.txt").read_text()
    for sentence in answer["sentences"]:
        for cite in sentence["citations"]:
            assert sentence["text"] in cite["quote"] and cite["quote"] in body
            citation = answer["citations"][cite["n"] - 1]
            assert citation["spans"][cite["span"]] == {k: cite[k] for k in ("quote", "start", "end")}
    too_long = rag_main("ask", "x" * 5000, env=env)
    assert too_long.returncode == 2 and "limit" in too_long.stderr


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_blank_search_is_an_error_like_blank_ask(blank: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = []
    for command in ("search", "ask"):
        status = main([command, blank, "--index-dir", str(tmp_path / "index")])
        outcomes.append((status, capsys.readouterr().err))
    assert outcomes[0] == outcomes[1] == (2, "error: the question is empty\n")


def test_too_long_search_is_an_error_like_too_long_ask(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = []
    for command in ("search", "ask"):
        status = main([command, "x" * 1001, "--index-dir", str(tmp_path / "index")])
        outcomes.append((status, capsys.readouterr().err))
    assert outcomes[0] == outcomes[1] == (2, "error: the question is 1001 characters long; the limit is 1000\n")


def test_until_includes_its_day_in_search_and_ask(tmp_path: Path, articles_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # The seed was published 13 August 2022 13:56 WIB.
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hash:256")
    index = ["--index-dir", str(tmp_path / "index")]
    assert main(["index", "--source", str(articles_dir), "--no-progress", *index]) == 0
    capsys.readouterr()

    def found(command: str, until: str) -> bool:
        question = "Kapan Anies pertama kali bertemu Gubernur Koike?"
        assert main([command, question, "--until", until, "--json", *index]) == 0
        out = json.loads(capsys.readouterr().out)
        hits = out if command == "search" else out["citations"]
        return any(h["article_id"].startswith("antara-2022-08-13") for h in hits)

    for command in ("search", "ask"):
        assert found(command, "2022-08-13") and found(command, "13 Agustus 2022"), command
        assert not found(command, "2022-08-12") and not found(command, "2022-08-13 13:00"), command
        assert found(command, "2022-08-13 14:00"), command
