"""What every grading provider shares: the task/answer it gets, the assessment it returns, and the
deterministic aggregation (mean of the criteria, rounded half up to the 0.5 grid)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

Skill = Literal["writing", "speaking"]


class ScoringError(Exception):
    """A permanent problem with the input (nothing to grade); ``code`` goes to ``last_error_code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class TaskSpec:
    skill: Skill
    part: str
    prompt: str
    min_words: int


@dataclass(frozen=True, slots=True)
class CriterionResult:
    criterion: str
    score: float
    feedback: str


@dataclass(frozen=True, slots=True)
class Assessment:
    criteria: tuple[CriterionResult, ...]
    overall: float
    raw_mean: float
    feedback: str
    confidence: float
    provider: str
    model: str
    rubric_version: str
    flags: frozenset[str] = field(default_factory=frozenset)
    transcript: str | None = None


class Scorer(Protocol):
    """A grading provider. Raises :class:`ScoringError` for permanent input problems."""

    provider: str

    def score(self, task: TaskSpec, answer_text: str | None) -> Assessment: ...


def round_half_up_to_half(x: float) -> float:
    """Rounds to the nearest 0.5, ties going up: 6.25 -> 6.5, 6.75 -> 7.0, 6.24 -> 6.0.

    Decimal of ``repr(x)`` avoids binary artefacts (a mean such as 6.25 stays exactly 6.25).
    """
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"cannot round {x!r}")
    doubled = (Decimal(repr(x)) * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return float(doubled) / 2


def to_grid(x: float) -> float:
    """Clamps to 0..10 and rounds half up to the 0.5 grid."""
    return round_half_up_to_half(min(10.0, max(0.0, x)))


def overall_score(scores: Sequence[float]) -> float:
    """The official aggregation: mean of the criterion scores, rounded half up to 0.5."""
    if not scores:
        raise ValueError("no criterion scores")
    return round_half_up_to_half(sum(scores) / len(scores))


_COUNTED_WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")


def count_words(text: str) -> int:
    """Words as the API counts them (``countWords`` in apps/api): runs of letters or digits, with
    inner apostrophes and hyphens. The learner sees one number for length, whichever side counts.
    """
    return len(_COUNTED_WORD.findall(text))
