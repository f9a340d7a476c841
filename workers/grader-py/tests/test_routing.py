from __future__ import annotations

from dataclasses import replace

import pytest

from grader.contracts.constants import (
    LOW_CONFIDENCE_BELOW,
    MEDIUM_CONFIDENCE_BELOW,
    NEAR_CUTOFF_MARGIN,
    REVIEW_REASON_PRIORITY,
    SPOT_CHECK_SHARE,
    ReviewReason,
)
from grader.routing import DEFAULT_POLICY, AiResult, Review, RoutingInput, is_near_cutoff, route_grade


def inp(
    mode: str = "hybrid",
    overall: float = 7.5,
    confidence: float = 0.85,
    off_topic: bool = False,
    word_count: int = 300,
    min_words: int = 250,
    draw: float = 0.99,
    failed: bool = False,
) -> RoutingInput:
    ai = None if failed else AiResult(overall, confidence, off_topic)
    return RoutingInput(mode, ai, word_count, min_words, draw)


def test_policy_numbers_come_from_the_contract() -> None:
    assert (LOW_CONFIDENCE_BELOW, MEDIUM_CONFIDENCE_BELOW, NEAR_CUTOFF_MARGIN, SPOT_CHECK_SHARE) == (
        0.5,
        0.7,
        0.25,
        0.05,
    )
    assert REVIEW_REASON_PRIORITY["ai_failed"] == "high"
    assert REVIEW_REASON_PRIORITY["spot_check"] == "low"


def test_auto_completes_whatever_the_ai_says() -> None:
    d = route_grade(inp("auto", overall=4.0, confidence=0.1, off_topic=True, word_count=1))
    assert (d.status, d.review) == ("completed", None)


def test_human_mode_is_reviewed_with_medium_priority() -> None:
    d = route_grade(inp("human"))
    assert (d.status, d.review) == ("review_pending", Review("medium", ("human_mode",)))


def test_ai_failure() -> None:
    assert route_grade(inp("auto", failed=True)).status == "failed"
    d = route_grade(inp("hybrid", failed=True))
    assert (d.status, d.review) == ("review_pending", Review("high", ("ai_failed",)))


@pytest.mark.parametrize(
    ("kwargs", "priority", "reasons"),
    [
        ({"confidence": 0.49}, "high", ("low_confidence",)),
        ({"confidence": 0.5}, "medium", ("medium_confidence",)),
        ({"confidence": 0.69}, "medium", ("medium_confidence",)),
        ({"confidence": 0.7}, None, ()),
        ({"overall": 4.25}, "high", ("near_cutoff",)),
        ({"overall": 5.75}, "high", ("near_cutoff",)),
        ({"overall": 8.76}, None, ()),
        ({"off_topic": True}, "medium", ("off_topic",)),
        ({"word_count": 249}, "medium", ("too_short",)),
        ({"word_count": 10, "min_words": 0}, None, ()),
        (
            {"confidence": 0.6, "overall": 6.0, "off_topic": True, "word_count": 1},
            "high",
            ("medium_confidence", "near_cutoff", "off_topic", "too_short"),
        ),
    ],
)
def test_hybrid_reasons_and_priorities(
    kwargs: dict[str, object], priority: str | None, reasons: tuple[ReviewReason, ...]
) -> None:
    d = route_grade(inp("hybrid", **kwargs))  # type: ignore[arg-type]
    if priority is None:
        assert (d.status, d.review) == ("completed", None)
    else:
        assert d.status == "review_pending"
        assert d.review == Review(priority, reasons)
        assert d.review.reason == ",".join(reasons)


def test_spot_check_samples_auto_accepted_results_only() -> None:
    assert route_grade(inp("auto", draw=0.0)).review == Review("low", ("spot_check",))
    assert route_grade(inp("hybrid", draw=SPOT_CHECK_SHARE - 1e-9)).review == Review("low", ("spot_check",))
    assert route_grade(inp("hybrid", draw=SPOT_CHECK_SHARE)).review is None
    assert route_grade(inp("hybrid", confidence=0.1, draw=0.0)).review == Review("high", ("low_confidence",))
    everything = replace(DEFAULT_POLICY, spot_check_share=1.0)
    assert route_grade(inp("auto", draw=0.999), everything).status == "completed"
    assert route_grade(inp("auto", draw=0.999), everything).review == Review("low", ("spot_check",))
    assert route_grade(inp("auto", draw=0.0), replace(DEFAULT_POLICY, spot_check_share=0.0)).review is None


def test_near_cutoff() -> None:
    assert is_near_cutoff(4.25) and is_near_cutoff(3.75) and is_near_cutoff(8.5)
    assert not is_near_cutoff(4.26) and not is_near_cutoff(7.0)
