"""The Python twins of the shared functions against the TypeScript ones: every generated vector must agree.

``packages/contracts/generated/contract-vectors.json`` holds inputs for ``roundToHalf``, ``overallOf``,
``cefrOf``, ``countWords`` and the status sets, with what TypeScript answered (``null``: it refused the
input with a RangeError). The same file is replayed in TypeScript by
packages/contracts/test/contract-vectors.test.ts; ``bun scripts/generate.ts --check`` fails when it is stale.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from grader.contracts.constants import AI_GRADING_STATUSES, FINAL_STATUSES, TERMINAL_STATUSES
from grader.scoring.base import cefr_label, cefr_level, count_words, overall_score, round_half_up_to_half

VECTORS_PATH = Path(__file__).resolve().parents[3] / "packages/contracts/generated/contract-vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text())["vectors"]


def _of(fn: str) -> list[dict[str, Any]]:
    return [v for v in VECTORS if v["fn"] == fn]


def _id(v: dict[str, Any]) -> str:
    return f"{json.dumps(v['input'], ensure_ascii=True)} {v.get('note', '')}".strip()


def _refused_or(run: Any, *args: Any) -> float | None:
    try:
        value: float = run(*args)
    except ValueError:
        return None
    return value


def test_the_vectors_cover_every_function_and_the_edge_cases() -> None:
    assert {v["fn"] for v in VECTORS} == {"roundToHalf", "overallOf", "cefrOf", "countWords", "statusSets"}
    rounding = {v["input"]: v["expected"] for v in _of("roundToHalf")}
    assert rounding[6.2499999999] == 6.0  # a decimal just below the half: down
    assert rounding[3.2499999999999996] == 3.5  # 0.01 + 2.34 + 0.9, binary noise of 3.25: up
    assert rounding[6.25] == 6.5 and rounding[6.75] == 7.0
    assert rounding[-0.5] is None and rounding[10.25] is None


@pytest.mark.parametrize("vector", _of("roundToHalf"), ids=_id)
def test_round_half_up_to_half_matches_round_to_half(vector: dict[str, Any]) -> None:
    got = _refused_or(round_half_up_to_half, vector["input"])
    assert got == vector["expected"]
    if got is not None:
        assert math.copysign(1.0, got) == 1.0  # never -0.0


@pytest.mark.parametrize("vector", _of("overallOf"), ids=_id)
def test_overall_score_matches_overall_of(vector: dict[str, Any]) -> None:
    assert _refused_or(overall_score, vector["input"]) == vector["expected"]


@pytest.mark.parametrize("vector", _of("cefrOf"), ids=_id)
def test_cefr_matches_cefr_of_and_its_label(vector: dict[str, Any]) -> None:
    score = vector["input"]
    assert {"level": cefr_level(score), "label": cefr_label(score)} == vector["expected"]


@pytest.mark.parametrize("vector", _of("countWords"), ids=_id)
def test_count_words_matches_count_words(vector: dict[str, Any]) -> None:
    assert count_words(vector["input"]) == vector["expected"]


@pytest.mark.parametrize("vector", _of("statusSets"), ids=_id)
def test_generated_status_sets_match(vector: dict[str, Any]) -> None:
    status = vector["input"]
    assert {
        "terminal": status in TERMINAL_STATUSES,
        "final": status in FINAL_STATUSES,
        "aiGrading": status in AI_GRADING_STATUSES,
    } == vector["expected"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_round_half_up_to_half_refuses_non_finite_values(value: float) -> None:
    with pytest.raises(ValueError):
        round_half_up_to_half(value)
