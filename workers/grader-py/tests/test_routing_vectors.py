"""The Python routing twin against the TypeScript ``routeGrade``: every generated vector must agree.

``packages/contracts/generated/routing-vectors.json`` holds inputs over a grid of modes, confidences,
overalls, off-topic, word counts and spot-check draws with the decision TypeScript made for each;
``bun packages/contracts/scripts/generate.ts --check`` fails when it is stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.routing import AiResult, RoutingInput, route_grade

VECTORS_PATH = Path(__file__).resolve().parents[3] / "packages/contracts/generated/routing-vectors.json"


def _load() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text())["vectors"]
    return vectors


VECTORS = _load()


def _input(raw: dict[str, Any]) -> RoutingInput:
    ai = raw["ai"]
    return RoutingInput(
        mode=raw["mode"],
        ai=None if ai is None else AiResult(ai["overall"], ai["confidence"], ai["offTopic"]),
        word_count=raw["wordCount"],
        min_words=raw["minWords"],
        spot_check_draw=raw["spotCheckDraw"],
    )


def _as_json(inp: RoutingInput) -> dict[str, Any]:
    d = route_grade(inp)
    review = None if d.review is None else {"priority": d.review.priority, "reasons": list(d.review.reasons)}
    return {"status": d.status, "review": review}


def test_the_vectors_cover_every_outcome() -> None:
    assert len(VECTORS) > 500
    statuses = {v["expected"]["status"] for v in VECTORS}
    assert statuses == {"completed", "review_pending", "failed"}
    reasons = {r for v in VECTORS if v["expected"]["review"] for r in v["expected"]["review"]["reasons"]}
    assert reasons == {
        "human_mode",
        "ai_failed",
        "low_confidence",
        "medium_confidence",
        "near_cutoff",
        "off_topic",
        "too_short",
        "spot_check",
    }


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: json.dumps(v["input"], separators=(",", ":")))
def test_python_routing_matches_typescript(vector: dict[str, Any]) -> None:
    assert _as_json(_input(vector["input"])) == vector["expected"]
