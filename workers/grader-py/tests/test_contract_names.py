"""Names the worker shares with the API and with arq, from the generated constants."""

from __future__ import annotations

import json
from pathlib import Path

from arq import constants as arq_constants

from grader.contracts.constants import (
    AI_GRADING_STATUSES,
    ARQ_HEALTH_CHECK_SUFFIX,
    ARQ_IN_PROGRESS_KEY_PREFIX,
    ARQ_JOB_KEY_PREFIX,
    ARQ_RESULT_KEY_PREFIX,
    ARQ_RETRY_KEY_PREFIX,
    DEFAULT_QUEUE_NAME,
    SUBMISSION_TRANSITIONS,
)
from grader.routing import AiResult, RoutingInput, route_grade

ROUTING_VECTORS = Path(__file__).resolve().parents[3] / "packages/contracts/generated/routing-vectors.json"


def test_the_contract_key_names_are_arqs_own() -> None:
    """The API writes these keys for the arq the worker runs; a new arq with other names fails here."""
    assert DEFAULT_QUEUE_NAME == arq_constants.default_queue_name
    assert ARQ_JOB_KEY_PREFIX == arq_constants.job_key_prefix
    assert ARQ_RESULT_KEY_PREFIX == arq_constants.result_key_prefix
    assert ARQ_IN_PROGRESS_KEY_PREFIX == arq_constants.in_progress_key_prefix
    assert ARQ_RETRY_KEY_PREFIX == arq_constants.retry_key_prefix
    assert ARQ_HEALTH_CHECK_SUFFIX == arq_constants.health_check_key_suffix


def test_every_routing_outcome_is_a_transition_the_database_allows() -> None:
    """The worker moves a row out of an AI-grading status to what route_grade decides; the lifecycle
    table (and the database trigger built from it) must allow each such move, or the write fails."""
    vectors = json.loads(ROUTING_VECTORS.read_text())["vectors"]
    outcomes = set()
    for v in vectors:
        raw = v["input"]
        ai = (
            None
            if raw["ai"] is None
            else AiResult(raw["ai"]["overall"], raw["ai"]["confidence"], raw["ai"]["offTopic"])
        )
        outcomes.add(
            route_grade(
                RoutingInput(raw["mode"], ai, raw["wordCount"], raw["minWords"], raw["spotCheckDraw"])
            ).status
        )
    assert outcomes == {"completed", "review_pending", "failed"}
    # the AI result is written from processing; a failure without a result may come while still pending
    assert outcomes <= SUBMISSION_TRANSITIONS["processing"]
    assert {"failed", "review_pending"} <= SUBMISSION_TRANSITIONS["pending"]
    assert frozenset({"pending", "processing"}) == AI_GRADING_STATUSES
