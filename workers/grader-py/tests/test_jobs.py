"""grade_submission against a real PostgreSQL database (migrated and seeded by the project's CLI)."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import pytest
from arq import Retry
from conftest import create_submission
from samples import GOOD_ESSAY, OFF_TOPIC_ESSAY, SHORT_ESSAY, SPEAKING_TRANSCRIPT

from grader.config import Settings
from grader.jobs import MAX_TRIES, PermanentJobError, grade_submission
from grader.scoring.writing.scorer import RUBRIC_VERSION


def ctx_for(pool: Any, job_try: int = 1, spot_check_share: float = 0.0) -> dict[str, Any]:
    settings = Settings(database_url="postgres://unused/db", spot_check_share=spot_check_share)
    return {"pg": pool, "job_try": job_try, "job_id": "test", "settings": settings}


async def events(pool: asyncpg.Pool, sid: uuid.UUID) -> list[tuple[str | None, str, str]]:
    rows = await pool.fetch(
        """select from_status::text, to_status::text, actor
             from submission_events where submission_id = $1 order by id""",
        sid,
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def test_pending_writing_submission_is_graded_and_completed(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    out = await grade_submission(ctx_for(pool), submission_id=str(sid))
    assert out == {
        "submission_id": str(sid),
        "status": "completed",
        "grade_written": True,
        "review_priority": None,
    }

    grade = await pool.fetchrow("select * from grades where submission_id = $1", sid)
    assert grade is not None
    assert (grade["source"], grade["provider"], grade["rubric_version"]) == (
        "ai",
        "offline",
        RUBRIC_VERSION,
    )
    assert 0 <= grade["confidence"] <= 1
    assert grade["feedback"]
    criteria = await pool.fetch(
        "select criterion::text, score, feedback from grade_criteria where grade_id = $1", grade["id"]
    )
    assert sorted(c["criterion"] for c in criteria) == [
        "grammar",
        "organisation",
        "task_fulfilment",
        "vocabulary",
    ]
    mean = sum(c["score"] for c in criteria) / 4
    assert grade["overall"] == (mean * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2
    assert all(c["feedback"] for c in criteria)

    sub = await pool.fetchrow(
        "select status::text, attempts, review_priority from submissions where id = $1", sid
    )
    assert sub is not None and (sub["status"], sub["attempts"], sub["review_priority"]) == (
        "completed",
        1,
        None,
    )
    assert await events(pool, sid) == [
        (None, "pending", "system"),
        ("pending", "processing", "worker"),
        ("processing", "completed", "worker"),
    ]
    reason = await pool.fetchval(
        "select reason from submission_events where submission_id = $1 and to_status = 'completed'", sid
    )
    assert reason.startswith("ai grade")

    # a second run (a duplicate delivery) writes nothing
    again = await grade_submission(ctx_for(pool), submission_id=str(sid))
    assert again is not None and again["grade_written"] is False and again["status"] == "completed"
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 1
    assert await pool.fetchval("select count(*) from grade_criteria where grade_id = $1", grade["id"]) == 4
    assert len(await events(pool, sid)) == 3


async def test_rerun_of_processing_row_with_existing_grade_writes_nothing(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    await grade_submission(ctx_for(pool), submission_id=str(sid))
    # a crash between claim and write is simulated by a row still 'processing' that already has a grade:
    # the ON CONFLICT guard keeps a single grade.
    sid2 = await create_submission(pool, answer_text=GOOD_ESSAY)
    await pool.execute("update submissions set status = 'processing' where id = $1", sid2)
    first = await grade_submission(ctx_for(pool, 2), submission_id=str(sid2))
    assert first is not None and first["grade_written"] is True
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid2) == 1
    assert [e[:2] for e in await events(pool, sid2)] == [
        (None, "pending"),
        ("pending", "processing"),
        ("processing", "completed"),
    ]


async def test_hybrid_short_answer_goes_to_review_with_high_priority(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=SHORT_ESSAY, mode="hybrid")
    out = await grade_submission(ctx_for(pool), submission_id=str(sid))
    assert out is not None
    assert (out["status"], out["grade_written"], out["review_priority"]) == ("review_pending", True, "high")
    review = await pool.fetchrow(
        "select priority::text, reason, reviewer_id from reviews where submission_id = $1", sid
    )
    assert review is not None and review["priority"] == "high" and "too_short" in review["reason"]
    assert review["reviewer_id"] is None
    assert await pool.fetchval("select review_priority::text from submissions where id = $1", sid) == "high"
    assert [e[1] for e in await events(pool, sid)] == ["pending", "processing", "review_pending"]


async def test_hybrid_off_topic_goes_to_review(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=OFF_TOPIC_ESSAY, mode="hybrid")
    out = await grade_submission(ctx_for(pool), submission_id=str(sid))
    assert out is not None and out["status"] == "review_pending"
    assert "off_topic" in await pool.fetchval("select reason from reviews where submission_id = $1", sid)


async def test_speaking_transcript_is_graded_on_five_criteria_and_reviewed(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, slug="s1-free-time-and-food", answer_text=SPEAKING_TRANSCRIPT)
    out = await grade_submission(ctx_for(pool), submission_id=str(sid))
    # a text transcript goes through the speaking scorer without timings: pronunciation never heard,
    # so its confidence stays under the low-confidence line and a person always reviews it
    assert out is not None and (out["status"], out["review_priority"]) == ("review_pending", "high")
    reason = await pool.fetchval("select reason from reviews where submission_id = $1", sid)
    assert reason.split(",")[0] == "low_confidence"
    grade = await pool.fetchrow(
        "select id, transcript, confidence, rubric_version from grades where submission_id = $1", sid
    )
    assert grade is not None and grade["transcript"] == SPEAKING_TRANSCRIPT and grade["confidence"] < 0.5
    assert grade["rubric_version"].startswith("vstep-speaking-offline")
    assert await pool.fetchval("select count(*) from grade_criteria where grade_id = $1", grade["id"]) == 5


async def test_permanent_error_marks_failed_without_retry(pool: asyncpg.Pool) -> None:
    sid = await create_submission(
        pool, slug="s1-free-time-and-food", answer_text=None, audio_ref="audio/x.webm", mode="auto"
    )
    out = await grade_submission(ctx_for(pool), submission_id=str(sid))
    assert out is not None and (out["status"], out["grade_written"]) == ("failed", False)
    row = await pool.fetchrow("select status::text, last_error_code from submissions where id = $1", sid)
    assert row is not None and tuple(row) == ("failed", "audio_unreadable")  # not in the audio store
    assert [e[1] for e in await events(pool, sid)] == ["pending", "processing", "failed"]
    # a failed row is final for the worker
    again = await grade_submission(ctx_for(pool), submission_id=str(sid))
    assert again is not None and again["status"] == "failed"


async def test_invalid_payload_is_permanent(pool: asyncpg.Pool) -> None:
    with pytest.raises(PermanentJobError, match="invalid_payload"):
        await grade_submission(ctx_for(pool), submission_id="not-a-uuid")
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    out = await grade_submission(ctx_for(pool), submission_id=str(sid), unexpected=1)
    assert out is not None and out["status"] == "failed"
    assert (
        await pool.fetchval("select last_error_code from submissions where id = $1", sid) == "invalid_payload"
    )


async def test_deleted_submission_returns_quietly(pool: asyncpg.Pool) -> None:
    assert await grade_submission(ctx_for(pool), submission_id=str(uuid.uuid4())) is None


class FlakyPool:
    """Delegates to a real pool, but the first ``failures`` acquisitions fail like a lost connection
    (by default ``ConnectionDoesNotExistError``; ``error`` picks another class)."""

    def __init__(self, pool: asyncpg.Pool, failures: int, error: BaseException | None = None) -> None:
        self.pool = pool
        self.failures = failures
        self.error = error or asyncpg.exceptions.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )
        self.expired = 0

    async def acquire(self) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return await self.pool.acquire()

    async def release(self, conn: Any) -> None:
        await self.pool.release(conn)

    async def expire_connections(self) -> None:
        self.expired += 1
        await self.pool.expire_connections()


async def test_transient_error_raises_retry_with_backoff(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    with pytest.raises(Retry) as exc:
        await grade_submission(ctx_for(FlakyPool(pool, 1), job_try=2), submission_id=str(sid))
    assert exc.value.defer_score is not None and 0 <= exc.value.defer_score <= 4000
    assert await pool.fetchval("select status::text from submissions where id = $1", sid) == "pending"
    # the retry then succeeds
    out = await grade_submission(ctx_for(pool, job_try=3), submission_id=str(sid))
    assert out is not None and out["status"] == "completed"


async def test_last_try_marks_failed_retries_exhausted(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    await pool.execute("update submissions set status = 'processing' where id = $1", sid)
    out = await grade_submission(ctx_for(FlakyPool(pool, 1), job_try=MAX_TRIES), submission_id=str(sid))
    assert out is not None and out["status"] == "failed"
    row = await pool.fetchrow("select status::text, last_error_code from submissions where id = $1", sid)
    assert row is not None and tuple(row) == ("failed", "retries_exhausted")
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 0


async def test_hybrid_permanent_error_goes_to_review_with_high_priority(pool: asyncpg.Pool) -> None:
    sid = await create_submission(
        pool, slug="s1-free-time-and-food", answer_text=None, audio_ref="audio/x.webm", mode="hybrid"
    )
    out = await grade_submission(ctx_for(pool), submission_id=str(sid))
    assert out is not None and (out["status"], out["grade_written"], out["review_priority"]) == (
        "review_pending",
        False,
        "high",
    )
    row = await pool.fetchrow(
        "select status::text, last_error_code, review_priority::text from submissions where id = $1", sid
    )
    assert row is not None and tuple(row) == ("review_pending", "audio_unreadable", "high")
    review = await pool.fetchrow("select priority::text, reason from reviews where submission_id = $1", sid)
    assert review is not None and tuple(review) == ("high", "ai_failed")
    assert [e[1] for e in await events(pool, sid)] == ["pending", "processing", "review_pending"]


async def test_hybrid_retries_exhausted_goes_to_review(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY, mode="hybrid")
    out = await grade_submission(ctx_for(FlakyPool(pool, 1), job_try=MAX_TRIES), submission_id=str(sid))
    assert out is not None and (out["status"], out["review_priority"]) == ("review_pending", "high")
    assert await pool.fetchval("select reason from reviews where submission_id = $1", sid) == "ai_failed"
    assert await pool.fetchval("select last_error_code from submissions where id = $1", sid) == (
        "retries_exhausted"
    )


async def test_spot_check_completes_and_queues_a_low_review(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY, mode="auto")
    out = await grade_submission(ctx_for(pool, spot_check_share=1.0), submission_id=str(sid))
    assert out is not None and (out["status"], out["review_priority"]) == ("completed", "low")
    review = await pool.fetchrow("select priority::text, reason from reviews where submission_id = $1", sid)
    assert review is not None and tuple(review) == ("low", "spot_check")
    assert await pool.fetchval("select review_priority::text from submissions where id = $1", sid) == "low"


async def test_no_spot_check_when_the_share_is_zero(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY, mode="auto")
    out = await grade_submission(ctx_for(pool, spot_check_share=0.0), submission_id=str(sid))
    assert out is not None and (out["status"], out["review_priority"]) == ("completed", None)
    assert await pool.fetchval("select count(*) from reviews where submission_id = $1", sid) == 0


async def test_late_result_is_kept_and_flagged_without_routing(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY, mode="hybrid")
    # the sweeper fails the row while it is processing: simulated by a trigger on this row alone
    await pool.execute(
        f"""create function test_timeout_{sid.hex}() returns trigger language plpgsql as $$
            begin
              perform set_config('vstep.actor', 'system', true), set_config('vstep.reason', 'timeout', true);
              update submissions set status = 'failed', last_error_code = 'timeout' where id = new.id;
              return null;
            end $$;
            create trigger zz_test_timeout_{sid.hex} after update of status on submissions
              for each row when (new.id = '{sid}' and new.status = 'processing')
              execute function test_timeout_{sid.hex}();"""
    )
    try:
        out = await grade_submission(ctx_for(pool, spot_check_share=1.0), submission_id=str(sid))
    finally:
        await pool.execute(
            f"drop trigger zz_test_timeout_{sid.hex} on submissions; drop function test_timeout_{sid.hex}()"
        )
    assert out is not None and (out["status"], out["grade_written"]) == ("failed", True)
    row = await pool.fetchrow(
        "select status::text, last_error_code, late from submissions where id = $1", sid
    )
    assert row is not None and tuple(row) == ("failed", "timeout", True)
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 1
    assert await pool.fetchval("select count(*) from reviews where submission_id = $1", sid) == 0
    assert [e[1] for e in await events(pool, sid)] == ["pending", "processing", "failed"]


async def test_job_starting_after_a_timeout_does_nothing(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    await pool.execute(
        "update submissions set status = 'failed', last_error_code = 'timeout' where id = $1", sid
    )
    out = await grade_submission(ctx_for(pool), submission_id=str(sid))
    assert out is not None and (out["status"], out["grade_written"]) == ("failed", False)
    assert await pool.fetchval("select late from submissions where id = $1", sid) is False
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 0


async def test_retry_after_a_late_result_completes_without_a_second_grade(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    # timed out, its grade arrived late, then it was put back to pending by hand (the API's retry
    # deletes a late grade first; an operator's SQL may not): the job must still finish the row
    await pool.execute("update submissions set status = 'processing' where id = $1", sid)
    await pool.execute(
        "update submissions set status = 'failed', last_error_code = 'timeout', late = true where id = $1",
        sid,
    )
    await pool.execute(
        """insert into grades (submission_id, source, overall, provider, model, rubric_version, confidence)
           values ($1, 'ai', 6.5, 'offline', 'rubric', 'vstep-offline-1', 0.9)""",
        sid,
    )
    await pool.execute("update submissions set status = 'pending' where id = $1", sid)

    out = await grade_submission(ctx_for(pool), submission_id=str(sid))

    assert out is not None and (out["status"], out["grade_written"]) == ("completed", False)
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 1
    assert await pool.fetchval("select status::text from submissions where id = $1", sid) == "completed"
