"""What every grading provider shares: the task/answer it gets, the assessment it returns, and the
deterministic aggregation (mean of the criteria, rounded half up to the 0.5 grid)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

from grader.contracts.constants import (
    CEFR_BELOW_CUTOFFS,
    CEFR_CUTOFFS,
    CEFR_LABELS,
    SCORE_DECIMALS,
    SCORE_MAX,
    SCORE_MIN,
    LastErrorCode,
)
from grader.contracts.words import WORD_PATTERN

Skill = Literal["writing", "speaking"]


_SCORE_UNIT = Decimal(1).scaleb(-SCORE_DECIMALS)


class ScoringError(Exception):
    """A permanent problem with the input (nothing to grade); ``code`` goes to ``last_error_code``."""

    def __init__(self, code: LastErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class TaskSpec:
    skill: Skill
    part: str
    prompt: str
    min_words: int


@dataclass(frozen=True, slots=True)
class Annotation:
    """A place in the answer the feedback points at: characters ``start``..``end`` (end exclusive, in
    Python string indices, i.e. code points), what is wrong or good there, and a fix when known."""

    start: int
    end: int
    message: str
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class CriterionResult:
    criterion: str
    score: float
    feedback: str
    annotations: tuple[Annotation, ...] = ()


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


CRITERION_LABELS = {
    "task_fulfilment": "Task fulfilment",
    "organisation": "Organisation",
    "vocabulary": "Vocabulary",
    "grammar": "Grammar",
    "pronunciation": "Pronunciation",
    "fluency": "Fluency",
    "discourse_management": "Discourse management",
}
"""How each criterion reads in feedback text."""


def strongest_and_weakest(results: Sequence[CriterionResult]) -> str:
    """The line every offline summary carries: the best criterion and the one to work on."""
    best = max(results, key=lambda r: r.score)
    worst = min(results, key=lambda r: r.score)
    return (
        f"Strongest: {CRITERION_LABELS[best.criterion]} ({best.score:.1f}); "
        f"focus on: {CRITERION_LABELS[worst.criterion]} ({worst.score:.1f})."
    )


class Scorer(Protocol):
    """A grading provider. Raises :class:`ScoringError` for permanent input problems."""

    provider: str

    def score(self, task: TaskSpec, answer_text: str | None) -> Assessment: ...


def round_half_up_to_half(x: float) -> float:
    """Rounds to the nearest 0.5, ties going up, on the decimal value read to ``SCORE_DECIMALS`` (12)
    places: 6.25 -> 6.5, 6.2499999999 -> 6.0, 3.2499999999999996 (binary noise of 3.25) -> 3.5.

    The twin of ``roundToHalf`` (packages/contracts/src/scoring.ts): ``repr`` gives the same shortest
    decimal as JavaScript's ``String``, and both round it half away from zero to 12 places, then half
    up to the grid. A value outside 0..10 (after the 12 places) raises ``ValueError``; both sides pass
    packages/contracts/generated/contract-vectors.json.
    """
    if math.isnan(x) or math.isinf(x) or x < SCORE_MIN - 1 or x > SCORE_MAX + 1:
        raise ValueError(f"not a score: {x!r}")
    decimal = Decimal(repr(x)).quantize(_SCORE_UNIT, rounding=ROUND_HALF_UP)
    if decimal < Decimal(repr(SCORE_MIN)) or decimal > Decimal(repr(SCORE_MAX)):
        raise ValueError(f"not a score: {x!r}")
    halves = (decimal * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return float(halves) / 2 + 0.0  # + 0.0: never -0.0


def to_grid(x: float) -> float:
    """Clamps to 0..10 and rounds half up to the 0.5 grid."""
    return round_half_up_to_half(min(SCORE_MAX, max(SCORE_MIN, x)))


def overall_score(scores: Sequence[float]) -> float:
    """The official aggregation: mean of the criterion scores, rounded half up to 0.5 (``overallOf``)."""
    if not scores:
        raise ValueError("no criterion scores")
    return round_half_up_to_half(sum(scores) / len(scores))


def cefr_level(score: float) -> str:
    """The CEFR level code of a band score (``cefrOf``): ``C1``, ``B2``, ``B1`` or ``none``."""
    for level, cutoff in CEFR_CUTOFFS:
        if score >= cutoff:
            return level
    return CEFR_BELOW_CUTOFFS


def cefr_label(score: float) -> str:
    """How the level reads to a person (``CEFR_LABELS``): ``none`` is "below B1"."""
    return CEFR_LABELS[cefr_level(score)]


def count_words(text: str) -> int:
    """Words as every side counts them (``countWords`` in packages/contracts/src/words.ts): runs of
    letters or digits with their combining marks, joined by inner apostrophes and hyphens. The
    pattern is generated, so the learner sees one number for length, whichever side counts.
    """
    return len(WORD_PATTERN.findall(text))
