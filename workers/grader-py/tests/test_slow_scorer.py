"""GRADER_SCORE_DELAY_MS: the drill's slow scorer is configured, wraps the real one, and is off by default."""

from __future__ import annotations

import pytest
from samples import GOOD_ESSAY, REMOTE_WORK_PROMPT

from grader.config import ConfigError, load_settings
from grader.providers.factory import make_grader
from grader.scoring import OfflineScorer, TaskSpec
from grader.scoring.slow import SlowScorer

DB = {"DATABASE_URL": "postgresql://127.0.0.1/x"}
TASK = TaskSpec("writing", "writing_task_2", REMOTE_WORK_PROMPT, 250)


def test_off_by_default() -> None:
    settings = load_settings(DB)
    assert settings.score_delay_ms == 0
    assert isinstance(make_grader(settings), OfflineScorer)


def test_a_delay_wraps_the_configured_scorer_and_keeps_its_identity() -> None:
    grader = make_grader(load_settings({**DB, "GRADER_SCORE_DELAY_MS": "20"}))
    assert isinstance(grader, SlowScorer) and grader.delay_s == 0.02
    plain = OfflineScorer()
    assert grader.provider == plain.provider
    assert grader.score(TASK, GOOD_ESSAY) == plain.score(TASK, GOOD_ESSAY)


def test_the_job_sees_the_inner_scorers_attributes() -> None:
    class Paid(OfflineScorer):
        provider = "paid-api"
        model = "m-1"
        paid = True

    slow = SlowScorer(Paid(), 0.0)
    assert (slow.provider, slow.model, slow.paid) == ("paid-api", "m-1", True)


@pytest.mark.parametrize("raw", ["-1", "soon", "600001"])
def test_a_bad_delay_stops_the_worker(raw: str) -> None:
    with pytest.raises(ConfigError, match="GRADER_SCORE_DELAY_MS"):
        load_settings({**DB, "GRADER_SCORE_DELAY_MS": raw})
