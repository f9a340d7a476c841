"""The worker checks the grade it writes against the contract (the generated pydantic ``GradeResult``)
before anything reaches PostgreSQL; a grade that would not match is a permanent ``invalid_grade``."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from conftest import create_submission
from samples import GOOD_ESSAY, REMOTE_WORK_PROMPT

from grader.config import Settings
from grader.jobs import PermanentJobError, grade_row, grade_submission
from grader.scoring import OfflineScorer, TaskSpec
from grader.scoring.base import Assessment, CriterionResult

TASK2 = TaskSpec("writing", "writing_task_2", REMOTE_WORK_PROMPT, 250)
SID = uuid.UUID("00000000-0000-4000-8000-000000000001")


def good() -> Assessment:
    return OfflineScorer().score(TASK2, GOOD_ESSAY)


def with_score(a: Assessment, index: int, score: float) -> Assessment:
    criteria = list(a.criteria)
    criteria[index] = replace(criteria[index], score=score)
    return replace(a, criteria=tuple(criteria))


def test_a_scorer_grade_passes_and_keeps_its_values() -> None:
    a = good()
    g = grade_row(SID, "writing", a)
    assert (g.submission_id, g.source.root, g.overall) == (SID, "ai", a.overall)
    assert [(c.criterion.root, c.score) for c in g.criteria] == [(c.criterion, c.score) for c in a.criteria]


BROKEN: list[tuple[str, Any]] = [
    ("score off the 0.5 grid", lambda a: with_score(a, 0, 6.3)),
    ("score above 10", lambda a: with_score(a, 0, 10.5)),
    ("negative score", lambda a: with_score(a, 1, -0.5)),
    ("confidence above 1", lambda a: replace(a, confidence=1.2)),
    ("empty provider", lambda a: replace(a, provider="")),
    (
        "unknown criterion",
        lambda a: replace(a, criteria=(*a.criteria[:3], CriterionResult("charm", 6.0, "x"))),
    ),
    ("three criteria", lambda a: replace(a, criteria=a.criteria[:3])),
    (
        "a speaking criterion in a writing grade",
        lambda a: replace(
            a, criteria=(*a.criteria[:3], CriterionResult("fluency", a.criteria[3].score, "x"))
        ),
    ),
    ("a criterion twice", lambda a: replace(a, criteria=(*a.criteria[:3], a.criteria[0]))),
    (
        "overall not the mean of the criteria",
        lambda a: replace(a, overall=a.overall + 1 if a.overall < 9 else 5.0),
    ),
]


@pytest.mark.parametrize(("what", "breaks"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_grade_that_breaks_the_contract_is_refused(what: str, breaks: Any) -> None:
    with pytest.raises(PermanentJobError) as raised:
        grade_row(SID, "writing", breaks(good()))
    assert raised.value.code == "invalid_grade", what


class BrokenScorer:
    """A provider with a bug: one criterion off the 0.5 grid."""

    provider = "broken"

    def score(self, task: TaskSpec, answer_text: str | None) -> Assessment:
        return with_score(OfflineScorer().score(task, answer_text), 0, 6.3)


async def test_an_invalid_grade_never_reaches_postgresql(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY, mode="auto")
    settings = Settings(database_url="postgres://unused/db", spot_check_share=0.0)
    ctx = {"pg": pool, "job_try": 1, "job_id": "test", "settings": settings, "scorer": BrokenScorer()}
    out = await grade_submission(ctx, submission_id=str(sid))
    assert out is not None and (out["status"], out["grade_written"]) == ("failed", False)
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 0
    row = await pool.fetchrow("select status::text, last_error_code from submissions where id = $1", sid)
    assert row is not None and (row["status"], row["last_error_code"]) == ("failed", "invalid_grade")
