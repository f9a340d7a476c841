"""The ``grade_submission`` arq job.

1. Claim: in a transaction, lock the submission and move it ``pending -> processing`` (a row already
   ``processing`` is a re-run after a crash and continues; a final or reviewed row is left alone:
   the job is idempotent).
2. Score outside any transaction (the provider may be slow).
3. Write: in ONE transaction, lock the owner's user row (:func:`_lock_owner`) and the row again,
   insert the AI grade (``ON CONFLICT DO NOTHING`` on ``(submission_id, source)``) and its
   criteria, and move the row to the routed state; a review row goes with ``review_pending``.
   The database triggers record the event and notify listeners.

The next state comes from :func:`grader.routing.route_grade`, the twin of ``routeGrade`` in
``packages/contracts/src/grading-policy.ts``: review reasons are stored comma-joined in
``reviews.reason`` and the priority in ``submissions.review_priority`` too. An auto-accepted result
(``auto``, or ``hybrid`` without a reason) is sampled with probability ``GRADER_SPOT_CHECK_SHARE``
(default ``GRADING_POLICY.spotCheckShare``): it completes and also gets a low-priority review row.

The AI failing for good (a permanent error, or transient errors on the last try) is routed too:
``auto`` -> ``failed`` with ``last_error_code``; ``hybrid`` -> ``review_pending``, high, ``ai_failed``
(``last_error_code`` still says what failed). Transient errors before the last try raise
:class:`arq.Retry` with exponential backoff and full jitter.

Late results: when the grade is ready but the API's deadline sweeper has already failed the row
(``failed`` with ``last_error_code = 'timeout'``), the grade is kept (inserted as usual) and the row is
flagged ``late = true``; its status stays ``failed`` (failed -> completed is not a transition) and it
is not routed. A job that only starts after the sweeper failed its row has no result and does nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from arq import Retry
from asyncpg.pool import PoolConnectionProxy
from pydantic import ValidationError

from grader.config import Settings
from grader.contracts.constants import (
    AI_GRADING_STATUSES,
    EVENT_REASON_GRADING_STARTED,
    SPEAKING_CRITERIA,
    SPOT_CHECK_SHARE,
    WORKER_ACTOR,
    WRITING_CRITERIA,
    LastErrorCode,
)
from grader.contracts.models import GradeJobOutcome, GradeResult, GradeSubmissionJob
from grader.routing import DEFAULT_POLICY, AiResult, Decision, RoutingInput, route_grade
from grader.scoring import OfflineScorer, Scorer, ScoringError, TaskSpec
from grader.scoring.base import Annotation, Assessment, overall_score

log = logging.getLogger("grader.jobs")

MAX_TRIES = 4
"""One try plus at most 3 retries (registered as ``func(..., max_tries=MAX_TRIES)``)."""
RETRY_BASE_SECONDS = 2.0
RETRY_MAX_SECONDS = 60.0

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

    def __init__(self, code: LastErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: LastErrorCode = code


def utf16_offsets(text: str) -> list[int]:
    """For each code-point index 0..len(text), the UTF-16 index (what JavaScript's ``slice`` counts)."""
    out = [0]
    for ch in text:
        out.append(out[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return out


MAX_ANNOTATIONS = 100
"""The contract's limit per criterion."""


def annotations_of(answer: str | None, annotations: Sequence[Annotation]) -> list[dict[str, Any]]:
    """A criterion's annotations as the contract's ``Annotation``: offsets converted from Python's
    code points to UTF-16 units, so ``answerText.slice(start, end)`` in a client is the quoted text."""
    text = answer or ""
    index = utf16_offsets(text)
    out: list[dict[str, Any]] = []
    for x in annotations[:MAX_ANNOTATIONS]:
        item: dict[str, Any] = {
            "start": index[max(0, min(x.start, len(text)))],
            "end": index[max(0, min(x.end, len(text)))],
            "message": x.message,
        }
        if x.suggestion is not None:
            item["suggestion"] = x.suggestion
        out.append(item)
    return out


def grade_row(submission_id: UUID, skill: str, a: Assessment, answer: str | None = None) -> GradeResult:
    """The AI grade as the contract's ``GradeResult``: what is written to ``grades`` and
    ``grade_criteria``, checked before it reaches PostgreSQL.

    The generated model checks every field (scores on the 0.5 grid within 0..10, confidence within
    0..1, 4-5 criteria, known criterion names, no unknown fields). On top, the rules the schema cannot
    say: the criteria are exactly the skill's (``WRITING_CRITERIA`` / ``SPEAKING_CRITERIA``), and the
    overall is their mean rounded half up (``overallOf``). A scorer that breaks any of them is a bug
    retrying cannot fix: :class:`PermanentJobError` ``invalid_grade``, routed like a failed AI.
    """
    try:
        grade = GradeResult.model_validate(
            {
                "submission_id": submission_id,
                "source": "ai",
                "overall": a.overall,
                "criteria": [
                    {
                        "criterion": c.criterion,
                        "score": c.score,
                        "feedback": c.feedback,
                        "annotations": annotations_of(answer, c.annotations),
                    }
                    for c in a.criteria
                ],
                "feedback": a.feedback,
                "provider": a.provider,
                "model": a.model,
                "rubric_version": a.rubric_version,
                "confidence": a.confidence,
                "transcript": a.transcript,
            }
        )
    except ValidationError as exc:
        raise PermanentJobError("invalid_grade", f"the grade breaks the contract: {exc}") from None
    names = [c.criterion.root for c in grade.criteria]
    expected = WRITING_CRITERIA if skill == "writing" else SPEAKING_CRITERIA
    if sorted(names) != sorted(expected):
        raise PermanentJobError("invalid_grade", f"{skill} is graded on {expected}, not {tuple(names)}")
    mean = overall_score([c.score for c in grade.criteria])
    if grade.overall != mean:
        raise PermanentJobError("invalid_grade", f"overall {grade.overall} is not the criteria's {mean}")
    return grade


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
        "select set_config('vstep.actor', $1, true), set_config('vstep.reason', $2, true)",
        WORKER_ACTOR,
        reason,
    )


async def _lock_owner(conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any], sid: UUID) -> None:
    """Takes the lock order every writer of a submission shares: the owner's ``users`` row first.

    Changing a submission's status inserts a ``submission_events`` row, whose foreign key to
    ``users`` takes ``FOR KEY SHARE`` on the owner. Deleting the account locks that user row first
    and then, by cascade, the submissions. Taken in the other order (submission, then user) the two
    deadlocked (PostgreSQL 40P01). So each write transaction here locks the owner ``FOR KEY SHARE``
    (the same lock the foreign key takes; writers of different submissions of one user do not block
    each other) before it locks the submission. A user deleted meanwhile simply leaves no row.
    """
    await conn.execute(
        """select 1 from users
            where id = (select user_id from submissions where id = $1)
              for key share""",
        sid,
    )


TIMEOUT_CODE: LastErrorCode = "timeout"
"""``last_error_code`` the API's deadline sweeper writes; a grade arriving after it is a late result."""


def spot_check_share(ctx: dict[str, Any]) -> float:
    settings: Settings | None = ctx.get("settings")
    return settings.spot_check_share if settings is not None else SPOT_CHECK_SHARE


async def _upsert_review(
    conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any], sid: UUID, decision: Decision
) -> None:
    assert decision.review is not None
    await conn.execute(
        """insert into reviews (submission_id, priority, reason) values ($1, $2::review_priority, $3)
           on conflict (submission_id) do update
              set priority = excluded.priority, reason = excluded.reason, reviewer_id = null,
                  claimed_at = null, completed_at = null, created_at = now()""",
        sid,
        decision.review.priority,
        decision.review.reason,
    )


async def mark_failed(
    pool: asyncpg.Pool, submission_id: UUID, code: LastErrorCode, reason: str
) -> tuple[str | None, str | None]:
    """The AI failed for good: routes a pending/processing row with no AI result.

    ``auto`` -> ``failed``; ``hybrid`` -> ``review_pending`` with an ``ai_failed`` review (both keep
    ``last_error_code``). Returns the row's status and review priority afterwards (None: no row).
    """
    async with pool.acquire() as conn, conn.transaction():
        await _set_actor(conn, reason[:500])
        await _lock_owner(conn, submission_id)
        row = await conn.fetchrow(
            """select s.status::text as status, s.grading_mode::text as mode, s.word_count,
                      s.review_priority::text as priority, coalesce(t.min_words, 0) as min_words
                 from submissions s left join tasks t on t.id = s.task_id
                where s.id = $1 for update of s""",
            submission_id,
        )
        if row is None:
            return None, None
        if row["status"] not in AI_GRADING_STATUSES:
            return row["status"], row["priority"]
        decision = route_grade(
            RoutingInput(row["mode"], None, row["word_count"], row["min_words"], 1.0), DEFAULT_POLICY
        )
        priority = decision.review.priority if decision.review else None
        await conn.execute(
            """update submissions set status = $2::submission_status, last_error_code = $3,
                      review_priority = $4::review_priority
                where id = $1""",
            submission_id,
            decision.status,
            code,
            priority,
        )
        if decision.review is not None:
            await _upsert_review(conn, submission_id, decision)
        return decision.status, priority


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
        status, priority = await mark_failed(pool, sid, "invalid_payload", "invalid job payload")
        if status is None:
            return None
        return _outcome(sid, status, False, priority)

    sid = job.submission_id
    pool = ctx["pg"]
    job_try: int = int(ctx.get("job_try") or 1)
    settings: Settings | None = ctx.get("settings")
    try:
        return await _grade(ctx, pool, sid)
    except PermanentJobError as exc:
        log.warning("submission %s failed permanently: %s", sid, exc)
        status, priority = await mark_failed(pool, sid, exc.code, str(exc))
        return None if status is None else _outcome(sid, status, False, priority)
    except TRANSIENT_ERRORS as exc:
        if job_try >= MAX_TRIES:
            log.error("submission %s: retries exhausted after %s tries: %r", sid, job_try, exc)
            status, priority = await mark_failed(
                pool, sid, "retries_exhausted", f"retries exhausted: {exc!r}"
            )
            return None if status is None else _outcome(sid, status, False, priority)
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
        await _lock_owner(conn, sid)
        row = await conn.fetchrow(
            """select s.status::text as status, s.grading_mode::text as mode, s.answer_text, s.audio_ref,
                      s.review_priority::text as priority, s.word_count, t.id as task_id,
                      t.skill::text as skill, t.part::text as part, t.prompt, t.min_words
                 from submissions s left join tasks t on t.id = s.task_id
                where s.id = $1
                  for update of s""",
            sid,
        )
        if row is None:
            log.info("submission %s no longer exists; nothing to do", sid)
            return None
        status: str = row["status"]
        if status not in AI_GRADING_STATUSES:  # final, or a reviewer's turn
            log.info("submission %s is already %s; nothing to do", sid, status)
            return _outcome(sid, status, False, row["priority"])
        if status == "pending":
            await _set_actor(conn, EVENT_REASON_GRADING_STARTED)
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
        # CPU-bound (tens of ms offline, longer for a slow provider): off the event loop, so arq's
        # polling, heartbeats and the other jobs go on meanwhile.
        assessment = await asyncio.to_thread(scorer.score, task, row["answer_text"])
    except ScoringError as exc:
        raise PermanentJobError(exc.code, str(exc)) from exc
    grade = grade_row(sid, row["skill"], assessment, row["answer_text"])

    # 3. write grade + next state, atomically
    # "Near a cut-off" is measured on the unrounded mean of the criteria (raw_mean): the rounded
    # overall sits on the 0.5 grid, where ±0.25 of a cut-off would only ever mean the cut-off itself.
    routing = RoutingInput(
        mode=row["mode"],
        ai=AiResult(assessment.raw_mean, assessment.confidence, "off_topic" in assessment.flags),
        word_count=row["word_count"],
        min_words=row["min_words"],
        spot_check_draw=random.random(),
    )
    policy = replace(DEFAULT_POLICY, spot_check_share=spot_check_share(ctx))
    return await _write(pool, sid, route_grade(routing, policy), grade)


async def _insert_grade(
    conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any], sid: UUID, g: GradeResult
) -> UUID | None:
    """Inserts the AI grade and its criteria (validated by :func:`grade_row`); None when the
    submission already has one."""
    grade_id: UUID | None = await conn.fetchval(
        """insert into grades (submission_id, source, overall, feedback, provider, model, rubric_version,
                                   confidence, transcript)
               values ($1, $2::grade_source, $3, $4, $5, $6, $7, $8, $9)
               on conflict (submission_id, source) do nothing
               returning id""",
        sid,
        g.source.root,
        Decimal(str(g.overall)),
        g.feedback,
        g.provider,
        g.model,
        g.rubric_version,
        g.confidence,
        g.transcript,
    )
    if grade_id is None:
        return None
    await conn.executemany(
        """insert into grade_criteria (grade_id, criterion, score, feedback, annotations)
           values ($1, $2::criterion, $3, $4, $5::jsonb)""",
        [
            (
                grade_id,
                c.criterion.root,
                Decimal(str(c.score)),
                c.feedback,
                json.dumps([x.model_dump(mode="json", exclude_none=True) for x in c.annotations or []]),
            )
            for c in g.criteria
        ],
    )
    return grade_id


async def _write(pool: asyncpg.Pool, sid: UUID, decision: Decision, a: GradeResult) -> dict[str, Any] | None:
    why = decision.review.reason if decision.review else "accepted"
    reason = f"ai grade {a.overall:.1f} ({a.provider}); {why}"
    priority = decision.review.priority if decision.review else None
    async with pool.acquire() as conn, conn.transaction():
        await _set_actor(conn, reason[:500])
        await _lock_owner(conn, sid)
        current = await conn.fetchrow(
            """select status::text as status, review_priority::text as priority, last_error_code
                 from submissions where id = $1 for update""",
            sid,
        )
        if current is None:
            return None
        if current["status"] == "failed" and current["last_error_code"] == TIMEOUT_CODE:
            # A late result: keep the grade, flag the row, leave its status and route nothing.
            written = await _insert_grade(conn, sid, a) is not None
            await conn.execute("update submissions set late = true where id = $1", sid)
            log.info("submission %s graded %.1f after its deadline; kept as a late result", sid, a.overall)
            return _outcome(sid, "failed", written, current["priority"])
        if current["status"] != "processing":
            return _outcome(sid, current["status"], False, current["priority"])
        written = await _insert_grade(conn, sid, a) is not None
        if not written:
            # e.g. a late grade kept when the row was put back to pending by hand: keep it (never a
            # second AI grade), but still finish the row, or it would sit in 'processing' until its
            # deadline.
            log.info("submission %s already has an AI grade; keeping it", sid)
        await conn.execute(
            """update submissions set status = $2::submission_status,
                      review_priority = $3::review_priority, last_error_code = null
                where id = $1""",
            sid,
            decision.status,
            priority,
        )
        if decision.review is not None:
            await _upsert_review(conn, sid, decision)
    log.info("submission %s graded %.1f -> %s (%s)", sid, a.overall, decision.status, why)
    return _outcome(sid, decision.status, written, priority)
