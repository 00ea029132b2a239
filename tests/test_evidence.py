"""The fitted sentence scorer is data (rag/answer_model.json), checked against the code's features."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.citations import Citation, dated_notice
from rag.errors import ConfigError
from rag.refs import ArticleRef
from rag.evidence import FEATURES, MODEL_FILE, Question, answer_probability, fitted_scorer, load_scorer, sentence_features

ROOT = Path(__file__).resolve().parents[1]


def test_the_packaged_scorer_matches_the_code_and_ships_with_the_package() -> None:
    model = load_scorer()
    assert MODEL_FILE.parent == Path(rag.__file__).parent
    assert tuple(json.loads(MODEL_FILE.read_text())["features"]) == FEATURES
    assert tuple(model.rank_weights) == tuple(model.answer_weights) == FEATURES
    assert 0 < model.min_support < 1 and model.fitted_on and model.fitted_at
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["rag"]
    assert MODEL_FILE.name in package_data
    assert fitted_scorer() == model


def _saved(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = json.loads(MODEL_FILE.read_text())
    change(data)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    return path


def test_a_scorer_fitted_on_other_features_is_refused_with_what_differs(tmp_path: Path) -> None:
    def rename(data: dict) -> None:
        data["features"][0] = "old_coverage"

    with pytest.raises(ConfigError, match=r"lack \['coverage'\] and have \['old_coverage'\].*evals.fit_answers"):
        load_scorer(_saved(tmp_path, rename))

    def drop_weight(data: dict) -> None:
        del data["answer_weights"]["novelty"]

    with pytest.raises(ConfigError, match=r"answer_weights lack \['novelty'\]"):
        load_scorer(_saved(tmp_path, drop_weight))

    def reorder(data: dict) -> None:
        data["rank_weights"] = dict(reversed(list(data["rank_weights"].items())))

    with pytest.raises(ConfigError, match="rank_weights.*order"):
        load_scorer(_saved(tmp_path, reorder))


def test_a_missing_or_broken_scorer_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the answer scorer"):
        load_scorer(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read the answer scorer"):
        load_scorer(tmp_path / "broken.json")
    with pytest.raises(ConfigError, match="cannot read the answer scorer"):
        load_scorer(_saved(tmp_path, lambda data: data.pop("answer_bias")))


def test_the_fitter_writes_what_the_loader_reads(tmp_path: Path) -> None:
    from evals.fit_answers import write_model

    model = load_scorer()
    write_model(tmp_path / "m.json", model.rank_weights, model.answer_weights, model.answer_bias, model.min_support,
                "test data", "2026-12-02")
    again = load_scorer(tmp_path / "m.json")
    assert (again.rank_weights, again.answer_weights, again.answer_bias, again.min_support) == (
        model.rank_weights, model.answer_weights, model.answer_bias, model.min_support)
    assert (again.fitted_on, again.fitted_at) == ("test data", "2026-12-02")
    assert again.dense_floor == model.dense_floor and again.floor_embedders == model.floor_embedders
    with pytest.raises(ValueError):
        write_model(tmp_path / "bad.json", {"coverage": 1.0}, model.answer_weights, 0.0, 0.5, "", "")


def test_answer_probability_uses_the_fitted_weights() -> None:
    question = Question.parse("Kapan Anies bertemu Gubernur Koike?", lambda t: 1.0)
    sentence = "Anies bertemu Gubernur Koike pada Rabu, 10 Agustus 2022."
    x = np.array(sentence_features(question, sentence, sentence, 1.0, 1, 0.8, 0.8), dtype=np.float32)
    model = load_scorer()
    expected = 1 / (1 + np.exp(-(x @ model.vector(model.answer_weights) + model.answer_bias)))
    assert answer_probability(x) == pytest.approx(float(expected), rel=1e-6)
    assert answer_probability(x, bias=model.answer_bias + 5) > answer_probability(x)
    # The time words come from dates.py's tables: a weekday, a month, a year are times.
    assert x[FEATURES.index("new_time")] == 0.0  # asked "kapan" and found one
    bare = sentence_features(question, "Anies bertemu Gubernur Koike di Tokyo.", "", 1.0, 1, 0.8, 0.8)
    assert bare[FEATURES.index("new_time")] == -1.0


def test_dated_notice_only_for_a_year_after_every_cited_article() -> None:
    cited = [Citation(1, ArticleRef("a", "t", published="2017-05-01T00:00:00"), "q", 0, 1)]
    assert "2017" in (dated_notice(cited, "Siapa pemenang Pilkada 2018?", "id") or "")
    assert dated_notice(cited, "Siapa pemenang Pilkada 2017?", "id") is None
    assert dated_notice(cited, "Siapa pemenang Pilkada?", "en") is None
    undated = [Citation(1, ArticleRef("a", "t"), "q", 0, 1)]
    assert dated_notice(undated, "Siapa pemenang Pilkada 2018?", "id") is None


def test_a_typed_question_word_names_the_noun_its_answer_stands_beside() -> None:
    from rag.features import typed_feature

    stadium = Question.parse("Di stadion mana Chelsea mengalahkan Manchester City?", lambda t: 1.0)
    assert stadium.typed == {"stadion"}
    assert Question.parse("Cedera apa yang dialami Ibrahimovic?", lambda t: 1.0).typed == {"cedera"}
    assert Question.parse("Which stadium hosted the final?", lambda t: 1.0).typed == {"stadium"}
    assert Question.parse("Siapa yang menang?", lambda t: 1.0).typed == frozenset()
    assert typed_feature(stadium, "Chelsea menang 3-1 di Stadion Etihad".split()) == 0.0
    assert typed_feature(stadium, "Chelsea mengalahkan Manchester City 3-1".split()) == -1.0
    # The noun beside the question's own words only ("stadion mana"): nothing new, no answer.
    assert typed_feature(stadium, "Chelsea di stadion Manchester City".split()) == -1.0
    untyped = Question.parse("Siapa yang menang?", lambda t: 1.0)
    assert typed_feature(untyped, "Chelsea menang".split()) == 0.0


def test_low_dense_counts_only_under_the_floor_and_for_the_fitted_embedder() -> None:
    question = Question.parse("Kapan Albert Einstein lahir?", lambda t: 1.0)
    sentence = "Einstein lahir di Ulm pada 14 Maret 1879."
    low = FEATURES.index("low_dense")
    assert sentence_features(question, sentence, sentence, 1.0, 1, hit_dense=0.80, dense_floor=0.86)[low] == \
        pytest.approx(-0.6)
    assert sentence_features(question, sentence, sentence, 1.0, 1, hit_dense=0.90, dense_floor=0.86)[low] == 0.0
    assert sentence_features(question, sentence, sentence, 1.0, 1, hit_dense=0.30, dense_floor=None)[low] == 0.0
    model = load_scorer()
    assert model.dense_floor is not None and model.floor_for("e5:bundled") == model.dense_floor
    assert model.floor_for("use:multilingual-v3") is None and model.floor_for("hash:256") is None
    assert model.answer_weights["low_dense"] > 0, "under the floor, an answer is less likely"
