"""Where a submission goes after its AI grade: the Python twin of ``routeGrade``.

The rules and every number live in ``packages/contracts/src/grading-policy.ts`` (``GRADING_POLICY``,
``REVIEW_REASON_PRIORITY``, ``routeGrade``). The numbers reach this module through the generated
:mod:`grader.contracts.constants`; the rules are mirrored here line for line, same reasons, same order,
same priorities. ``tests/test_routing_vectors.py`` checks this function against the decisions the
TypeScript function makes over a grid of inputs (``packages/contracts/generated/routing-vectors.json``,
regenerated and drift-checked with the other contracts), so the twins cannot silently diverge.

The rules, in order:

- ``human``: review_pending, medium (no AI job runs at all).
- AI failed for good: ``auto`` -> failed; ``hybrid`` -> review_pending, high, ``ai_failed``.
- ``hybrid``: every matching reason among low confidence, medium confidence, near a cut-off,
  off-topic, too short (< minWords) sends it to review_pending with the highest priority of its reasons.
- otherwise (``auto``, or ``hybrid`` without a reason) the AI grade is final: completed, and with
  probability ``spot_check_share`` it is also queued for a low-priority spot check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from grader.contracts.constants import (
    HUMAN_MODE_PRIORITY,
    LOW_CONFIDENCE_BELOW,
    MEDIUM_CONFIDENCE_BELOW,
    NEAR_CUTOFF_MARGIN,
    REVIEW_PRIORITIES,
    REVIEW_REASON_PRIORITY,
    ROUTING_CUTOFFS,
    SPOT_CHECK_SHARE,
    ReviewReason,
)

NextStatus = Literal["completed", "review_pending", "failed"]

_RANK = {p: i for i, p in enumerate(REVIEW_PRIORITIES)}


@dataclass(frozen=True, slots=True)
class Policy:
    """The routing numbers of ``GRADING_POLICY``; the defaults are the generated constants."""

    low_confidence_below: float = LOW_CONFIDENCE_BELOW
    medium_confidence_below: float = MEDIUM_CONFIDENCE_BELOW
    near_cutoff_margin: float = NEAR_CUTOFF_MARGIN
    cutoffs: tuple[float, ...] = ROUTING_CUTOFFS
    spot_check_share: float = SPOT_CHECK_SHARE
    human_mode_priority: str = HUMAN_MODE_PRIORITY


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class AiResult:
    """What routing needs from an AI grade."""

    overall: float
    confidence: float
    off_topic: bool


@dataclass(frozen=True, slots=True)
class RoutingInput:
    mode: str
    ai: AiResult | None
    """None when the AI failed for good (permanent error or retries spent)."""
    word_count: int
    min_words: int
    spot_check_draw: float
    """A uniform draw in [0, 1) for the spot-check sample; injectable so tests are deterministic."""


@dataclass(frozen=True, slots=True)
class Review:
    priority: str
    reasons: tuple[ReviewReason, ...]

    @property
    def reason(self) -> str:
        """As stored in ``reviews.reason``: the reasons, comma-joined."""
        return ",".join(self.reasons)


@dataclass(frozen=True, slots=True)
class Decision:
    status: NextStatus
    review: Review | None


def higher_priority(a: str, b: str) -> str:
    return a if _RANK[a] >= _RANK[b] else b


def is_near_cutoff(
    overall: float, margin: float = NEAR_CUTOFF_MARGIN, cutoffs: tuple[float, ...] = ROUTING_CUTOFFS
) -> bool:
    return any(abs(overall - cut) <= margin + 1e-9 for cut in cutoffs)


def route_grade(inp: RoutingInput, policy: Policy = DEFAULT_POLICY) -> Decision:
    """Mirrors ``routeGrade`` in grading-policy.ts exactly."""
    if inp.mode == "human":
        return Decision("review_pending", Review(policy.human_mode_priority, ("human_mode",)))
    if inp.ai is None:
        if inp.mode == "hybrid":
            return Decision("review_pending", Review("high", ("ai_failed",)))
        return Decision("failed", None)
    if inp.mode == "hybrid":
        reasons: list[ReviewReason] = []
        if inp.ai.confidence < policy.low_confidence_below:
            reasons.append("low_confidence")
        elif inp.ai.confidence < policy.medium_confidence_below:
            reasons.append("medium_confidence")
        if is_near_cutoff(inp.ai.overall, policy.near_cutoff_margin, policy.cutoffs):
            reasons.append("near_cutoff")
        if inp.ai.off_topic:
            reasons.append("off_topic")
        if inp.min_words > 0 and inp.word_count < inp.min_words:
            reasons.append("too_short")
        if reasons:
            priority = REVIEW_REASON_PRIORITY[reasons[0]]
            for r in reasons[1:]:
                priority = higher_priority(priority, REVIEW_REASON_PRIORITY[r])
            return Decision("review_pending", Review(priority, tuple(reasons)))
    if inp.spot_check_draw < policy.spot_check_share:
        return Decision("completed", Review("low", ("spot_check",)))
    return Decision("completed", None)
