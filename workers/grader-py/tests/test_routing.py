from __future__ import annotations

import pytest

from grader.routing import (
    CUTOFF_MARGIN,
    HIGH_PRIORITY_CONFIDENCE,
    MEDIUM_PRIORITY_CONFIDENCE,
    near_cutoff,
    route,
)


def test_auto_always_completes() -> None:
    r = route("auto", 4.0, 0.1, {"off_topic"})
    assert (r.status, r.priority) == ("completed", None)


def test_hybrid_confident_and_clear_completes() -> None:
    r = route("hybrid", 7.0, 0.85)
    assert (r.status, r.priority) == ("completed", None)


@pytest.mark.parametrize(
    ("overall", "confidence", "flags", "priority"),
    [
        (7.0, 0.59, (), "high"),
        (7.0, HIGH_PRIORITY_CONFIDENCE, (), "medium"),
        (7.0, 0.74, (), "medium"),
        (7.0, MEDIUM_PRIORITY_CONFIDENCE, (), None),
        (7.0, 0.9, ("off_topic",), "high"),
        (7.0, 0.9, ("too_short",), "high"),
        (7.0, 0.9, ("pronunciation_not_assessed",), None),
        (4.0, 0.9, (), "high"),
        (6.25, 0.9, (), "high"),
        (5.75, 0.9, (), "high"),
        (8.25, 0.9, (), "high"),
        (8.75, 0.9, (), "high"),
        (6.3, 0.9, (), None),
        (3.7, 0.9, (), None),
        (5.0, 0.9, (), None),
    ],
)
def test_hybrid_routing(
    overall: float, confidence: float, flags: tuple[str, ...], priority: str | None
) -> None:
    r = route("hybrid", overall, confidence, flags)
    assert r.priority == priority
    assert r.status == ("completed" if priority is None else "review_pending")
    assert r.reason


def test_reasons_name_the_triggers() -> None:
    r = route("hybrid", 6.0, 0.5, {"off_topic"})
    assert "confidence" in r.reason and "off_topic" in r.reason and "cut-off 6.0" in r.reason


def test_near_cutoff_and_unknown_mode() -> None:
    assert CUTOFF_MARGIN == 0.25
    assert near_cutoff(4.25) == 4.0
    assert near_cutoff(4.26) is None
    assert route("human", 7.0, 0.9).status == "review_pending"
    with pytest.raises(ValueError):
        route("bogus", 7.0, 0.9)
