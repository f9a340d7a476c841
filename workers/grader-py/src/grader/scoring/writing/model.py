"""The fitted writing model: figures in ``fitted.json`` (written by ``fit.py``), applied here."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from grader.scoring.writing.features import FEATURES, ErrorLexicon
from grader.scoring.writing.linear import piecewise

FITTED_PATH = Path(__file__).with_name("fitted.json")
CORPUS_EXPECTED_WORDS = 150
"""The task minimum assumed for the corpus essays (W&I prompts ask for roughly 100-250 words)."""
CALIBRATION_TARGETS = (1.0, 3.75, 5.75, 8.25, 9.75)
"""VSTEP values at: the 1st percentile, the below-B1/B1, B1/B2 and B2/C1 cuts, the 99th percentile."""
CRITERION_FEATURES: dict[str, tuple[str, ...]] = {
    "task_fulfilment": ("len_log", "len_short", "paragraphs", "sentence_length", "subordination"),
    "organisation": (
        "paragraphs",
        "cohesion_range",
        "cohesion_rate",
        "sentence_length",
        "sentence_sd",
        "len_log",
    ),
    "vocabulary": ("zipf", "rare", "mattr", "word_length", "academic", "spelling", "lex_unknown"),
    "grammar": (
        "lex_err",
        "llr_mean",
        "llr_negative",
        "llr_hits",
        "grammar_rules",
        "mechanics",
        "run_on",
        "subordination",
        "sentence_length",
    ),
}
"""Which features each criterion model may use (the overall model uses all of them)."""


@dataclass(frozen=True, slots=True)
class LinearModel:
    intercept: float
    coef: tuple[float, ...]
    knots: tuple[tuple[float, float], ...]

    def raw(self, z: list[float]) -> float:
        return self.intercept + math.fsum(c * v for c, v in zip(self.coef, z, strict=True))

    def score(self, z: list[float]) -> float:
        return piecewise(self.raw(z), self.knots)


@dataclass(frozen=True, slots=True)
class FittedWritingModel:
    means: tuple[float, ...]
    sds: tuple[float, ...]
    overall: LinearModel
    criteria: dict[str, LinearModel]
    lexicon: ErrorLexicon
    distance_p50: float
    distance_p99: float

    def standardise(self, values: dict[str, float]) -> list[float]:
        return [
            max(-6.0, min(6.0, (values[name] - m) / s))
            for name, m, s in zip(FEATURES, self.means, self.sds, strict=True)
        ]


def _linear(raw: dict[str, Any], knots: list[list[float]]) -> LinearModel:
    return LinearModel(float(raw["intercept"]), tuple(raw["coef"]), tuple((k[0], k[1]) for k in knots))


def load_model(data: dict[str, Any]) -> FittedWritingModel:
    if list(data["features"]) != list(FEATURES):
        raise ValueError("fitted.json was fitted on other features: refit with grader.scoring.writing.fit")
    lex = data["lexicon"]
    return FittedWritingModel(
        means=tuple(data["means"]),
        sds=tuple(data["sds"]),
        overall=_linear(data["models"]["overall"], data["calibration"]["overall"]),
        criteria={c: _linear(data["models"][c], data["calibration"][c]) for c in CRITERION_FEATURES},
        lexicon=ErrorLexicon(
            unigram=lex["unigram"],
            bigram=lex["bigram"],
            unknown=float(lex["unknown"]),
            replacements={w: (r[0], float(r[1])) for w, r in lex["replacements"].items()},
            unigram_llr=lex["unigram_llr"],
            bigram_llr=lex["bigram_llr"],
        ),
        distance_p50=float(data["distance_p50"]),
        distance_p99=float(data["distance_p99"]),
    )


@cache
def fitted_model() -> FittedWritingModel:
    """The committed model (loaded once)."""
    return load_model(json.loads(FITTED_PATH.read_text(encoding="utf-8")))
