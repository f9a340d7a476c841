"""The ``grade_submission`` arq job.

1. Claim: in a transaction, lock the submission and move it ``pending -> processing`` (a row already
   ``processing`` is a re-run after a crash and continues; a final row, or one with an AI grade, is
   left alone: the job is idempotent).
2. Score outside any transaction (the provider may be slow).
3. Write: in ONE transaction, lock the row again, insert the AI grade (``ON CONFLICT DO NOTHING`` on
   ``(submission_id, source)``) and its criteria, and move the row to the routed state; a review row
   goes with ``review_pending``. The database triggers record the event and notify listeners.

Permanent errors mark the row ``failed`` with ``last_error_code`` and are not retried. Transient
database errors raise :class:`arq.Retry` with exponential backoff and full jitter; on the last try
the row is marked ``failed`` with ``retries_exhausted``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from arq import Retry
from asyncpg.pool import PoolConnectionProxy
from pydantic import ValidationError

from grader.config import Settings
from grader.contracts.models import GradeJobOutcome, GradeSubmissionJob
from grader.routing import route
from grader.scoring import OfflineScorer, Scorer, ScoringError, TaskSpec
from grader.scoring.base import Assessment

log = logging.getLogger("grader.jobs")

MAX_TRIES = 4
"""One try plus at most 3 retries (registered as ``func(..., max_tries=MAX_TRIES)``)."""
RETRY_BASE_SECONDS = 2.0
RETRY_MAX_SECONDS = 60.0
ACTOR = "worker"
FINAL_OR_HANDED_OVER = frozenset({"completed", "review_pending", "failed"})

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # connection refused / reset
    asyncio.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
)


class PermanentJobError(Exception):
    """An error that retrying cannot fix; ``code`` is stored as ``last_error_code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def backoff_seconds(
    job_try: int,
    base: float = RETRY_BASE_SECONDS,
    cap: float = RETRY_MAX_SECONDS,
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """Exponential backoff with full jitter: uniform in ``[0, min(cap, base * 2**(try-1))]``."""
    return rand(0.0, min(cap, base * 2 ** max(0, job_try - 1)))


def _outcome(submission_id: UUID, status: str, written: bool, priority: str | None) -> dict[str, Any]:
    return GradeJobOutcome.model_validate(
        {
            "submission_id": submission_id,
            "status": status,
            "grade_written": written,
            "review_priority": priority,
        }
    ).model_dump(mode="json")


async def _set_actor(conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any], reason: str) -> None:
    await conn.execute(
        "select set_config('vstep.actor', $1, true), set_config('vstep.reason', $2, true)", ACTOR, reason
    )


async def mark_failed(pool: asyncpg.Pool, submission_id: UUID, code: str, reason: str) -> str | None:
    """Moves a pending/processing row to ``failed`` with ``last_error_code``; returns the row's status."""
    async with pool.acquire() as conn, conn.transaction():
        await _set_actor(conn, reason[:500])
        status: str | None = await conn.fetchval(
            "select status::text from submissions where id = $1 for update", submission_id
        )
        if status in ("pending", "processing"):
            await conn.execute(
                "update submissions set status = 'failed', last_error_code = $2 where id = $1",
                submission_id,
                code,
            )
            return "failed"
        return status


async def grade_submission(
    ctx: dict[str, Any], *, submission_id: Any = None, **extra: Any
) -> dict[str, Any] | None:
    """Grades one submission. Returns a ``GradeJobOutcome`` dict, or None if the row no longer exists."""
    try:
        job = GradeSubmissionJob.model_validate({"submission_id": submission_id, **extra})
    except ValidationError as exc:
        try:
            sid = UUID(str(submission_id))
        except ValueError:
            raise PermanentJobError("invalid_payload", str(exc)) from None
        pool: asyncpg.Pool = ctx["pg"]
        status = await mark_failed(pool, sid, "invalid_payload", "invalid job payload")
        if status is None:
            return None
        return _outcome(sid, status, False, None)

    sid = job.submission_id
    pool = ctx["pg"]
    job_try: int = int(ctx.get("job_try") or 1)
    settings: Settings | None = ctx.get("settings")
    try:
        return await _grade(ctx, pool, sid)
    except PermanentJobError as exc:
        log.warning("submission %s failed permanently: %s", sid, exc)
        status = await mark_failed(pool, sid, exc.code, str(exc))
        return None if status is None else _outcome(sid, status, False, None)
    except TRANSIENT_ERRORS as exc:
        if job_try >= MAX_TRIES:
            log.error("submission %s: retries exhausted after %s tries: %r", sid, job_try, exc)
            status = await mark_failed(pool, sid, "retries_exhausted", f"retries exhausted: {exc!r}")
            return None if status is None else _outcome(sid, status, False, None)
        base = settings.retry_base_s if settings else RETRY_BASE_SECONDS
        cap = settings.retry_max_s if settings else RETRY_MAX_SECONDS
        delay = backoff_seconds(job_try, base, cap)
        log.warning(
            "submission %s: transient error on try %s, retrying in %.1fs: %r", sid, job_try, delay, exc
        )
        raise Retry(defer=delay) from exc
    except Exception as exc:
        # A bug, not the input: record it so the row does not stay 'processing' forever.
        log.exception("submission %s: unexpected error", sid)
        await mark_failed(pool, sid, "internal_error", f"unexpected error: {type(exc).__name__}")
        raise


async def _grade(ctx: dict[str, Any], pool: asyncpg.Pool, sid: UUID) -> dict[str, Any] | None:
    # 1. claim
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """select s.status::text as status, s.grading_mode::text as mode, s.answer_text, s.audio_ref,
                      s.review_priority::text as priority, t.id as task_id, t.skill::text as skill,
                      t.part::text as part, t.prompt, t.min_words,
                      exists(select 1 from grades g
                              where g.submission_id = s.id and g.source = 'ai') as graded
                 from submissions s left join tasks t on t.id = s.task_id
                where s.id = $1
                  for update of s""",
            sid,
        )
        if row is None:
            log.info("submission %s no longer exists; nothing to do", sid)
            return None
        status: str = row["status"]
        if status in FINAL_OR_HANDED_OVER or row["graded"]:
            log.info("submission %s is already %s; nothing to do", sid, status)
            return _outcome(sid, status, False, row["priority"])
        if status == "pending":
            await _set_actor(conn, "grading started")
            await conn.execute(
                "update submissions set status = 'processing', attempts = attempts + 1 where id = $1", sid
            )
        else:  # processing: a re-run after a crash or a retry
            await conn.execute("update submissions set attempts = attempts + 1 where id = $1", sid)
    if row["task_id"] is None:
        raise PermanentJobError("task_not_found", "the submission's task no longer exists")

    # 2. score
    scorer: Scorer = ctx.get("scorer") or OfflineScorer()
    task = TaskSpec(skill=row["skill"], part=row["part"], prompt=row["prompt"], min_words=row["min_words"])
    try:
        assessment = scorer.score(task, row["answer_text"])
    except ScoringError as exc:
        raise PermanentJobError(exc.code, str(exc)) from exc

    # 3. write grade + next state, atomically
    return await _write(pool, sid, row["mode"], assessment)


async def _write(pool: asyncpg.Pool, sid: UUID, mode: str, a: Assessment) -> dict[str, Any] | None:
    decision = route(mode, a.raw_mean, a.confidence, a.flags)
    reason = f"ai grade {a.overall:.1f} ({a.provider}); {decision.reason}"
    async with pool.acquire() as conn, conn.transaction():
        await _set_actor(conn, reason[:500])
        current = await conn.fetchrow(
            """select status::text as status, review_priority::text as priority
                 from submissions where id = $1 for update""",
            sid,
        )
        if current is None:
            return None
        if current["status"] != "processing":
            return _outcome(sid, current["status"], False, current["priority"])
        grade_id = await conn.fetchval(
            """insert into grades (submission_id, source, overall, feedback, provider, model, rubric_version,
                                   confidence, transcript)
               values ($1, 'ai', $2, $3, $4, $5, $6, $7, $8)
               on conflict (submission_id, source) do nothing
               returning id""",
            sid,
            Decimal(str(a.overall)),
            a.feedback,
            a.provider,
            a.model,
            a.rubric_version,
            a.confidence,
            a.transcript,
        )
        if grade_id is None:
            log.info("submission %s already has an AI grade; not writing another", sid)
            return _outcome(sid, current["status"], False, current["priority"])
        await conn.executemany(
            """insert into grade_criteria (grade_id, criterion, score, feedback)
               values ($1, $2::criterion, $3, $4)""",
            [(grade_id, c.criterion, Decimal(str(c.score)), c.feedback) for c in a.criteria],
        )
        await conn.execute(
            """update submissions set status = $2::submission_status,
                      review_priority = $3::review_priority, last_error_code = null
                where id = $1""",
            sid,
            decision.status,
            decision.priority,
        )
        if decision.status == "review_pending":
            await conn.execute(
                """insert into reviews (submission_id, priority, reason) values ($1, $2::review_priority, $3)
                   on conflict (submission_id) do update
                      set priority = excluded.priority, reason = excluded.reason, reviewer_id = null,
                          claimed_at = null, completed_at = null, created_at = now()""",
                sid,
                decision.priority,
                decision.reason,
            )
    log.info("submission %s graded %.1f -> %s (%s)", sid, a.overall, decision.status, decision.reason)
    return _outcome(sid, decision.status, True, decision.priority)
