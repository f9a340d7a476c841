"""Where a submission goes after its AI grade: ``completed`` or ``review_pending`` (with a priority).

Pure; every threshold is a named constant here. Speaking grades from the offline scorer carry a low
confidence (pronunciation is not assessed from text), so hybrid speaking always gets a human look.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from grader.contracts.constants import CEFR_CUTOFFS

HIGH_PRIORITY_CONFIDENCE = 0.6
"""Below this confidence a hybrid grade goes to review with high priority."""
MEDIUM_PRIORITY_CONFIDENCE = 0.75
"""Below this (and at or above the high threshold) it goes to review with medium priority."""
CUTOFF_MARGIN = 0.25
"""An overall within this distance of a CEFR cut-off (inclusive) goes to review with high priority."""
CUTOFFS: tuple[float, ...] = tuple(sorted(cut for _, cut in CEFR_CUTOFFS))
"""4.0 (B1), 6.0 (B2), 8.5 (C1), from the generated contracts."""
HIGH_PRIORITY_FLAGS = frozenset({"off_topic", "too_short", "copied_prompt"})
"""Hard flags: always reviewed, high priority."""

NextStatus = Literal["completed", "review_pending"]
Priority = Literal["low", "medium", "high"]


@dataclass(frozen=True, slots=True)
class Route:
    status: NextStatus
    priority: Priority | None
    reason: str


def near_cutoff(overall: float, margin: float = CUTOFF_MARGIN) -> float | None:
    """The CEFR cut-off within ``margin`` of ``overall``, if any."""
    for cut in CUTOFFS:
        if abs(overall - cut) <= margin + 1e-9:
            return cut
    return None


def route(mode: str, overall: float, confidence: float, flags: Iterable[str] = ()) -> Route:
    """Decides the next state after an AI grade.

    ``overall`` should be the unrounded mean of the criteria where the caller has it, so that
    "near a cut-off" means what it says; the rounded overall works too.
    ``mode`` ``auto`` always completes; ``human`` (not normally graded by the worker) always reviews.
    """
    if mode == "auto":
        return Route("completed", None, "auto grading mode")
    if mode == "human":
        return Route("review_pending", "low", "human grading mode")
    if mode != "hybrid":
        raise ValueError(f"unknown grading mode {mode!r}")
    high: list[str] = []
    if confidence < HIGH_PRIORITY_CONFIDENCE:
        high.append(f"confidence {confidence:.2f} < {HIGH_PRIORITY_CONFIDENCE}")
    high.extend(sorted(set(flags) & HIGH_PRIORITY_FLAGS))
    cut = near_cutoff(overall)
    if cut is not None:
        high.append(f"overall {overall:.2f} within {CUTOFF_MARGIN} of cut-off {cut}")
    if high:
        return Route("review_pending", "high", "; ".join(high))
    if confidence < MEDIUM_PRIORITY_CONFIDENCE:
        return Route(
            "review_pending", "medium", f"confidence {confidence:.2f} < {MEDIUM_PRIORITY_CONFIDENCE}"
        )
    return Route("completed", None, f"confidence {confidence:.2f}, clear of cut-offs")
