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

import hashlib
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from annotated_types import MaxLen
from arq import Retry
from asyncpg.pool import PoolConnectionProxy
from pydantic import ValidationError

from grader.config import DEFAULT_RETRY_BASE_SECONDS, DEFAULT_RETRY_MAX_SECONDS, Settings
from grader.contracts.constants import (
    AI_GRADING_STATUSES,
    EVENT_REASON_GRADING_STARTED,
    SPEAKING_CRITERIA,
    SPOT_CHECK_SHARE,
    WORKER_ACTOR,
    WRITING_CRITERIA,
    LastErrorCode,
)
from grader.contracts.models import CriterionScore, GradeJobOutcome, GradeResult, GradeSubmissionJob
from grader.db import CONNECTION_ERRORS, is_connection_failure, transaction, with_reconnect
from grader.observability import provider_call
from grader.providers.errors import BreakerOpen, ProviderRejected, ProviderUnavailable
from grader.providers.guard import through_breaker
from grader.routing import DEFAULT_POLICY, AiResult, Decision, RoutingInput, route_grade
from grader.scoring import OfflineScorer, Scorer, ScoringError, TaskSpec
from grader.scoring.base import Annotation, Assessment, overall_score
from grader.speaking_pipeline import assess_recording

log = logging.getLogger("grader.jobs")

MAX_TRIES = 4
"""One try plus at most 3 retries. arq is given ``MAX_TRIES`` plus the breaker deferrals
(``worker.ARQ_MAX_TRIES``): a deferral for an open breaker is not counted as a try here."""
DEFERRALS_KEY_PREFIX = "grader:deferrals:"
"""How often an open breaker deferred a job (arq counts those runs as tries; this worker does not)."""
DEFERRALS_TTL_S = 88_400
"""Like arq's own try counter."""
FALLBACK_CONFIDENCE = 0.3
"""An offline fallback grade's confidence is capped here: below the low-confidence threshold, so a
hybrid submission graded by the fallback always goes to a human."""

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    *CONNECTION_ERRORS,  # the database or a socket went away, whatever class it arrives as
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
)


def is_transient(exc: BaseException) -> bool:
    """Worth another try: a transient class, or a broken connection anywhere in the exception's chain
    (a rollback failing on a dead connection raises ``InternalClientError`` with the cause inside)."""
    return isinstance(exc, TRANSIENT_ERRORS) or is_connection_failure(exc)


MARK_FAILED_RECONNECT_S = 20.0
"""How long recording a final failure waits out a database restart before giving up (the reconciler
and the deadline sweeper are the next safety nets)."""


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


MAX_ANNOTATIONS: int = next(
    m.max_length for m in CriterionScore.model_fields["annotations"].metadata if isinstance(m, MaxLen)
)
"""The contract's limit per criterion (``annotations: z.array(Annotation).max(...)`` in jobs.ts), read
from the generated model so the two cannot drift."""


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


def grade_row(
    submission_id: UUID, skill: str, a: Assessment, answer: str | None = None, origin: str = "provider"
) -> GradeResult:
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
                "origin": origin,
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
    base: float = DEFAULT_RETRY_BASE_SECONDS,
    cap: float = DEFAULT_RETRY_MAX_SECONDS,
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """Exponential backoff with full jitter: uniform in ``[0, min(cap, base * 2**(try-1))]``."""
    return rand(0.0, min(cap, base * 2 ** max(0, job_try - 1)))


def retry_delay(
    attempt: int,
    base: float,
    cap: float,
    retry_after: float | None,
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """The defer before the next try: full-jitter backoff, or the provider's ``Retry-After`` when that
    is longer (a provider asking for more time always gets it)."""
    return max(backoff_seconds(attempt, base, cap, rand), retry_after or 0.0)


def breaker_defer(retry_after: float, rand: Callable[[float, float], float] = random.uniform) -> float:
    """How long a job waits for an open breaker: until its cooldown ends, plus up to 20% (at most 2 s)
    of jitter so the deferred jobs do not all come back in the same instant."""
    return retry_after + rand(0.0, min(2.0, 0.2 * retry_after) if retry_after > 0 else 0.5)


def answer_sha256(answer: str | None) -> str | None:
    """The key of the cost-sense reuse: the answer text exactly as stored (None: no text)."""
    return hashlib.sha256(answer.encode()).hexdigest() if answer else None


# The deferral count costs Redis round trips only from a job's second run on: the first run of a job
# (arq's ``job_try`` 1) has had no deferral, its first deferral starts the count afresh (a key left by
# an earlier job with the same id, which crashed, is overwritten), and a job that ends on its first
# run has no count to forget.


async def _deferrals(redis: Any, job_id: str, job_try: int) -> int:
    if redis is None or job_try <= 1:
        return 0
    raw = await redis.get(DEFERRALS_KEY_PREFIX + job_id)
    return int(raw) if raw else 0


async def _add_deferral(redis: Any, job_id: str, job_try: int) -> None:
    if redis is None:
        return
    key = DEFERRALS_KEY_PREFIX + job_id
    if job_try <= 1:
        await redis.set(key, 1, ex=DEFERRALS_TTL_S)
        return
    await redis.incr(key)
    await redis.expire(key, DEFERRALS_TTL_S)


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
    pool: asyncpg.Pool,
    submission_id: UUID,
    code: LastErrorCode,
    reason: str,
    dead_letter: tuple[str, int, str] | None = None,
) -> tuple[str | None, str | None]:
    """The AI failed for good: routes a pending/processing row with no AI result.

    ``auto`` -> ``failed``; ``hybrid`` -> ``review_pending`` with an ``ai_failed`` review (both keep
    ``last_error_code``). Returns the row's status and review priority afterwards (None: no row).
    ``dead_letter`` (provider, attempts, last error) also records the failure in ``dead_letters``, in
    the same transaction, for an admin to list and re-queue. A broken connection is discarded and the
    write is tried again on a fresh one for up to ``MARK_FAILED_RECONNECT_S``.
    """
    return await with_reconnect(
        lambda: _mark_failed_once(pool, submission_id, code, reason, dead_letter), MARK_FAILED_RECONNECT_S
    )


async def _mark_failed_once(
    pool: asyncpg.Pool,
    submission_id: UUID,
    code: LastErrorCode,
    reason: str,
    dead_letter: tuple[str, int, str] | None,
) -> tuple[str | None, str | None]:
    async with transaction(pool) as conn:
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
        if dead_letter is not None:
            provider, attempts, last_error = dead_letter
            await conn.execute(
                """insert into dead_letters (submission_id, provider, reason, attempts, last_error)
                   values ($1, $2, $3, $4, $5)""",
                submission_id,
                provider,
                code,
                attempts,
                last_error[:2000],
            )
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
    redis = ctx.get("redis")
    job_id = str(ctx.get("job_id") or sid)
    # Runs deferred by an open breaker are not tries: ``attempt`` counts only the real ones.
    attempt = max(1, job_try - await _deferrals(redis, job_id, job_try))
    last_run = job_try >= MAX_TRIES + (settings.breaker_max_deferrals if settings else 0)
    try:
        outcome = await _grade(ctx, pool, sid)
    except BreakerOpen as exc:
        if not last_run:
            await _add_deferral(redis, job_id, job_try)
            delay = breaker_defer(exc.retry_after_s or 0.0)
            log.info(
                "submission %s: %s breaker open, deferred %.1fs (try %s stays unspent)",
                sid,
                exc.provider,
                delay,
                attempt,
            )
            raise Retry(defer=delay) from exc
        outcome = await _ai_gave_up(ctx, pool, sid, exc, attempt)
    except ProviderUnavailable as exc:
        if attempt < MAX_TRIES and not last_run:
            base = settings.retry_base_s if settings else DEFAULT_RETRY_BASE_SECONDS
            cap = settings.retry_max_s if settings else DEFAULT_RETRY_MAX_SECONDS
            delay = retry_delay(attempt, base, cap, exc.retry_after_s)
            log.warning(
                "submission %s: %s unavailable on try %s, retrying in %.2fs: %s",
                sid,
                exc.provider,
                attempt,
                delay,
                exc,
            )
            raise Retry(defer=delay) from exc
        outcome = await _ai_gave_up(ctx, pool, sid, exc, attempt)
    except ProviderRejected as exc:
        log.error("submission %s: %s rejected the request: %s", sid, exc.provider, exc)
        status, priority = await mark_failed(
            pool, sid, "provider_rejected", f"provider rejected: {exc}", (exc.provider, attempt, str(exc))
        )
        outcome = None if status is None else _outcome(sid, status, False, priority)
    except PermanentJobError as exc:
        log.warning("submission %s failed permanently: %s", sid, exc)
        status, priority = await mark_failed(pool, sid, exc.code, str(exc))
        outcome = None if status is None else _outcome(sid, status, False, priority)
    except Exception as exc:
        if not is_transient(exc):
            # A bug, not the input: record it so the row does not stay 'processing' forever.
            log.exception("submission %s: unexpected error", sid)
            await mark_failed(pool, sid, "internal_error", f"unexpected error: {type(exc).__name__}")
            await _forget_deferrals(redis, job_id, job_try)
            raise
        if attempt >= MAX_TRIES or last_run:
            log.error("submission %s: retries exhausted after %s tries: %r", sid, job_try, exc)
            status, priority = await mark_failed(
                pool, sid, "retries_exhausted", f"retries exhausted: {exc!r}"
            )
            return None if status is None else _outcome(sid, status, False, priority)
        base = settings.retry_base_s if settings else DEFAULT_RETRY_BASE_SECONDS
        cap = settings.retry_max_s if settings else DEFAULT_RETRY_MAX_SECONDS
        delay = backoff_seconds(attempt, base, cap)
        log.warning(
            "submission %s: transient error on try %s, retrying in %.1fs: %r", sid, attempt, delay, exc
        )
        raise Retry(defer=delay) from exc
    await _forget_deferrals(redis, job_id, job_try)
    return outcome


async def _forget_deferrals(redis: Any, job_id: str, job_try: int) -> None:
    """The job is over (not retried): a re-queued job starts with a clean count."""
    if redis is not None and job_try > 1:
        await redis.delete(DEFERRALS_KEY_PREFIX + job_id)


async def _ai_gave_up(
    ctx: dict[str, Any], pool: asyncpg.Pool, sid: UUID, exc: ProviderUnavailable, attempt: int
) -> dict[str, Any] | None:
    """The provider stayed unavailable through every try: the offline fallback grades it when
    ``GRADER_FALLBACK=offline``; otherwise ``provider_unavailable`` (failed in auto, review_pending high
    in hybrid) and a dead letter."""
    settings: Settings | None = ctx.get("settings")
    if settings is not None and settings.fallback == "offline":
        log.warning(
            "submission %s: %s unavailable after %s tries; the offline fallback grades it",
            sid,
            exc.provider,
            attempt,
        )
        try:
            return await _grade(ctx, pool, sid, fallback=True)
        except PermanentJobError as perm:
            status, priority = await mark_failed(pool, sid, perm.code, str(perm))
            return None if status is None else _outcome(sid, status, False, priority)
    log.error("submission %s: %s unavailable after %s tries: %s", sid, exc.provider, attempt, exc)
    status, priority = await mark_failed(
        pool,
        sid,
        "provider_unavailable",
        f"provider unavailable after {attempt} tries: {exc}",
        (exc.provider, attempt, str(exc)),
    )
    return None if status is None else _outcome(sid, status, False, priority)


async def _reusable_grade(
    pool: asyncpg.Pool, sid: UUID, task_id: UUID, scorer: Any, digest: str
) -> tuple[GradeResult, bool] | None:
    """Cost sense: the provider's earlier grade of an identical answer to the same task under the same
    rubric version (and model), copied for this submission with ``origin = 'reused'``, with the
    original's off-topic verdict (its confidence is in the grade; "too short" follows from the identical
    answer's word count), so routing treats the copy exactly as it treated the original."""
    g = await pool.fetchrow(
        """select g.id, g.overall, g.feedback, g.confidence, g.transcript, g.off_topic
             from grades g join submissions s on s.id = g.submission_id
            where g.answer_sha256 = $1 and g.rubric_version = $2 and g.provider = $3 and g.model = $4
              and g.source = 'ai' and g.origin = 'provider' and s.task_id = $5 and g.submission_id <> $6
            order by g.created_at limit 1""",
        digest,
        scorer.rubric_version,
        scorer.provider,
        scorer.model,
        task_id,
        sid,
    )
    if g is None:
        return None
    criteria = await pool.fetch(
        "select criterion::text, score, feedback, annotations from grade_criteria where grade_id = $1",
        g["id"],
    )
    grade = GradeResult.model_validate(
        {
            "submission_id": sid,
            "source": "ai",
            "overall": float(g["overall"]),
            "criteria": [
                {
                    "criterion": c["criterion"],
                    "score": float(c["score"]),
                    "feedback": c["feedback"],
                    "annotations": json.loads(c["annotations"])
                    if isinstance(c["annotations"], str)
                    else c["annotations"],
                }
                for c in criteria
            ],
            "feedback": g["feedback"],
            "provider": scorer.provider,
            "model": scorer.model,
            "rubric_version": scorer.rubric_version,
            "confidence": g["confidence"],
            "transcript": g["transcript"],
            "origin": "reused",
        }
    )
    return grade, bool(g["off_topic"])


async def _score_with_breaker(
    ctx: dict[str, Any], scorer: Scorer, task: TaskSpec, answer: str | None
) -> Assessment:
    """Calls the scorer; a paid provider only through its circuit breaker (:mod:`grader.providers.guard`)."""

    def score() -> Assessment:
        with provider_call(str(scorer.provider), "score"):
            return scorer.score(task, answer)

    return await through_breaker(ctx, str(scorer.provider), score)


async def _grade(
    ctx: dict[str, Any], pool: asyncpg.Pool, sid: UUID, fallback: bool = False
) -> dict[str, Any] | None:
    # 1. claim
    async with transaction(pool) as conn:
        await _lock_owner(conn, sid)
        row = await conn.fetchrow(
            """select s.status::text as status, s.grading_mode::text as mode, s.answer_text, s.audio_ref,
                      s.audio_media_type, s.review_priority::text as priority, s.word_count, t.id as task_id,
                      t.skill::text as skill, t.part::text as part, t.prompt, t.min_words, t.speaking_seconds
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
        elif not fallback:  # processing: a re-run after a crash or a retry
            await conn.execute("update submissions set attempts = attempts + 1 where id = $1", sid)
    if row["task_id"] is None:
        raise PermanentJobError("task_not_found", "the submission's task no longer exists")

    # 2. score (or reuse a paid provider's grade of the identical answer)
    scorer: Scorer = OfflineScorer() if fallback else (ctx.get("scorer") or OfflineScorer())
    task = TaskSpec(skill=row["skill"], part=row["part"], prompt=row["prompt"], min_words=row["min_words"])
    digest = answer_sha256(row["answer_text"])
    if getattr(scorer, "paid", False) and digest is not None:
        hit = await _reusable_grade(pool, sid, row["task_id"], scorer, digest)
        if hit is not None:
            reused, off_topic = hit
            log.info(
                "submission %s: identical answer already graded by %s; grade reused", sid, scorer.provider
            )
            scores = [c.score for c in reused.criteria]
            ai = AiResult(sum(scores) / len(scores), reused.confidence, off_topic)
            return await _route_and_write(ctx, pool, sid, row, ai, reused, digest)
    try:
        if row["audio_ref"] is not None:
            # A recording: transcribe it, then the speaking scorer (grader.speaking_pipeline).
            assessment = await assess_recording(
                ctx,
                pool,
                sid,
                task,
                row["audio_ref"],
                row["audio_media_type"],
                row["speaking_seconds"],
                fallback=fallback,
            )
        else:
            # CPU-bound (tens of ms offline), or a slow provider: off the event loop, so arq's polling,
            # heartbeats and the other jobs go on meanwhile.
            assessment = await _score_with_breaker(ctx, scorer, task, row["answer_text"])
    except ScoringError as exc:
        raise PermanentJobError(exc.code, str(exc)) from exc
    if fallback:
        assessment = replace(assessment, confidence=min(assessment.confidence, FALLBACK_CONFIDENCE))
    # Annotations index into what was graded: the typed answer, or a recording's transcript.
    answer = row["answer_text"] if row["answer_text"] is not None else assessment.transcript
    grade = grade_row(sid, row["skill"], assessment, answer, "fallback" if fallback else "provider")
    ai = AiResult(assessment.raw_mean, assessment.confidence, "off_topic" in assessment.flags)
    return await _route_and_write(ctx, pool, sid, row, ai, grade, digest)


async def _route_and_write(
    ctx: dict[str, Any],
    pool: asyncpg.Pool,
    sid: UUID,
    row: Any,
    ai: AiResult,
    grade: GradeResult,
    digest: str | None,
) -> dict[str, Any] | None:

    # 3. write grade + next state, atomically
    # "Near a cut-off" is measured on the unrounded mean of the criteria (raw_mean): the rounded
    # overall sits on the 0.5 grid, where ±0.25 of a cut-off would only ever mean the cut-off itself.
    routing = RoutingInput(
        mode=row["mode"],
        ai=ai,
        word_count=row["word_count"],
        min_words=row["min_words"],
        spot_check_draw=random.random(),
    )
    policy = replace(DEFAULT_POLICY, spot_check_share=spot_check_share(ctx))
    return await _write(pool, sid, route_grade(routing, policy), grade, digest, ai.off_topic)


async def _insert_grade(
    conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any],
    sid: UUID,
    g: GradeResult,
    digest: str | None = None,
    off_topic: bool = False,
) -> UUID | None:
    """Inserts the AI grade and its criteria (validated by :func:`grade_row`); None when the
    submission already has one. ``off_topic`` is kept for a later reuse of the grade."""
    grade_id: UUID | None = await conn.fetchval(
        """insert into grades (submission_id, source, overall, feedback, provider, model, rubric_version,
                                   confidence, transcript, origin, answer_sha256, off_topic)
               values ($1, $2::grade_source, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
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
        g.origin.root if g.origin is not None else "provider",
        digest,
        off_topic,
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


async def _write(
    pool: asyncpg.Pool,
    sid: UUID,
    decision: Decision,
    a: GradeResult,
    digest: str | None = None,
    off_topic: bool = False,
) -> dict[str, Any] | None:
    why = decision.review.reason if decision.review else "accepted"
    reason = f"ai grade {a.overall:.1f} ({a.provider}); {why}"
    priority = decision.review.priority if decision.review else None
    async with transaction(pool) as conn:
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
            written = await _insert_grade(conn, sid, a, digest, off_topic) is not None
            await conn.execute("update submissions set late = true where id = $1", sid)
            log.info("submission %s graded %.1f after its deadline; kept as a late result", sid, a.overall)
            return _outcome(sid, "failed", written, current["priority"])
        if current["status"] != "processing":
            return _outcome(sid, current["status"], False, current["priority"])
        written = await _insert_grade(conn, sid, a, digest, off_topic) is not None
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
