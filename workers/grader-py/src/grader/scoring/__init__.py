"""Grading providers behind one interface (:class:`grader.scoring.base.Scorer`)."""

from __future__ import annotations

from grader.scoring.base import Assessment, CriterionResult, Scorer, ScoringError, TaskSpec
from grader.scoring.offline import OfflineScorer

__all__ = [
    "Assessment",
    "CriterionResult",
    "OfflineScorer",
    "Scorer",
    "ScoringError",
    "TaskSpec",
    "get_scorer",
]


def get_scorer(provider: str) -> Scorer:
    """The scorer for a configured provider name (validated in :mod:`grader.config`)."""
    if provider == "offline":
        return OfflineScorer()
    raise ValueError(f"unknown grading provider {provider!r}")
