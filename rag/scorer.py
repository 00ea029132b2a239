"""The fitted sentence scorer: `answer_model.json` beside this module, written by
`python -m evals.fit_answers fit`, checked against the code's FEATURES when loaded.

Left out: the features themselves (features.py) and how the assistant uses the scores (evidence.py).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError
from .features import DENSE_FEATURES, FEATURES

MODEL_FILE = Path(__file__).with_name("answer_model.json")


@dataclass(frozen=True)
class ScorerModel:
    """The fitted sentence scorer of `answer_model.json` (see evals/fit_answers.py):
    `rank_weights` order a question's sentences (listwise logistic regression), the
    `answer_weights` and `answer_bias` say whether the best one answers at all (logistic
    regression), and an answer probability under `min_support` is refused."""

    rank_weights: dict[str, float]
    answer_weights: dict[str, float]
    answer_bias: float
    min_support: float
    fitted_on: str
    fitted_at: str
    dense_floor: float | None = None
    """The best chunk's cosine under which a question is off the articles' topic (`low_dense`)..."""
    floor_embedders: tuple[str, ...] = ()
    """... for the embedders it was fitted with (one model, e5); other embedders' cosines are
    on another scale, and `low_dense` is 0 for them."""

    def floor_for(self, embedder_id: str) -> float | None:
        """`dense_floor` for an index embedded by `embedder_id`, else None."""
        return self.dense_floor if embedder_id in self.floor_embedders else None

    @property
    def uses_dense(self) -> bool:
        """Whether the rank or answer weights weigh a sentence's own similarity to the question
        (DENSE_FEATURES): else no sentence needs embedding."""
        return any(w.get(name, 0.0) for w in (self.rank_weights, self.answer_weights) for name in DENSE_FEATURES)

    def vector(self, weights: dict[str, float]) -> np.ndarray:
        """`weights` as an array in FEATURES order."""
        return np.array([weights.get(name, 0.0) for name in FEATURES], dtype=np.float32)


def load_scorer(path: Path = MODEL_FILE) -> ScorerModel:
    """The scorer saved in `path`; ConfigError when it is missing, malformed, or fitted on
    other features than the code computes (FEATURES)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        features = tuple(data["features"])
        model = ScorerModel(rank_weights=dict(data["rank_weights"]), answer_weights=dict(data["answer_weights"]),
                            answer_bias=float(data["answer_bias"]), min_support=float(data["min_support"]),
                            fitted_on=str(data.get("fitted_on", "")), fitted_at=str(data.get("fitted_at", "")),
                            dense_floor=float(data["dense_floor"]["cosine"]) if "dense_floor" in data else None,
                            floor_embedders=tuple(data["dense_floor"]["embedders"]) if "dense_floor" in data else ())
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"cannot read the answer scorer {path}: {err}; "
                          "refit it with `python -m evals.fit_answers fit`") from err
    for name, weights in (("features", features), ("rank_weights", tuple(model.rank_weights)),
                          ("answer_weights", tuple(model.answer_weights))):
        if weights != FEATURES:
            missing, extra = set(FEATURES) - set(weights), set(weights) - set(FEATURES)
            raise ConfigError(f"the answer scorer {path} does not match the code's features: its {name} lack "
                              f"{sorted(missing)} and have {sorted(extra)} more (or another order); "
                              "refit it with `python -m evals.fit_answers fit`")
    return model


@functools.cache
def fitted_scorer() -> ScorerModel:
    """The package's scorer (`answer_model.json`), read once."""
    return load_scorer()


def answer_probability(features: np.ndarray, weights: np.ndarray | None = None, bias: float | None = None) -> float:
    """Probability that the best sentence (its FEATURES) answers the question; by default
    with the fitted answer weights and bias."""
    if weights is None or bias is None:  # a refit passes both: the saved model may be for other features
        model = fitted_scorer()
        weights = model.vector(model.answer_weights) if weights is None else weights
        bias = model.answer_bias if bias is None else bias
    logit = float(features @ weights) + bias
    return 1 / (1 + math.exp(-logit))
