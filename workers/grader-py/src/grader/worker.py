"""arq worker entry point: ``uv run arq grader.worker.WorkerSettings``.

Settings are read from the environment when this module is imported (see :mod:`grader.config`);
a bad or missing variable stops the process with a message naming it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, ClassVar

import asyncpg
from arq.connections import RedisSettings
from arq.worker import Function, func

from grader.config import ConfigError, Settings, load_settings
from grader.contracts.constants import GRADE_SUBMISSION_FUNCTION
from grader.jobs import MAX_TRIES, grade_submission
from grader.scoring import get_scorer
from grader.serialization import job_deserializer, job_serializer

log = logging.getLogger("grader.worker")


def _load() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"grader worker: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


SETTINGS = _load()


async def startup(ctx: dict[str, Any]) -> None:
    """Opens the PostgreSQL pool (about one connection per concurrent job) and the scorer."""
    ctx["settings"] = SETTINGS
    ctx["scorer"] = get_scorer(SETTINGS.grader_provider)
    ctx["pg"] = await asyncpg.create_pool(
        SETTINGS.database_url, min_size=SETTINGS.pg_pool_min, max_size=SETTINGS.max_jobs + 1
    )
    log.info("grader worker started: queue=%s provider=%s", SETTINGS.queue_name, SETTINGS.grader_provider)


async def shutdown(ctx: dict[str, Any]) -> None:
    pool: asyncpg.Pool | None = ctx.get("pg")
    if pool is not None:
        await pool.close()


# Rows left in ``processing`` (or ``pending``) when arq itself gives up -- its job timeout cancels the
# coroutine and records a failure without a retry, or a job re-delivered after crashes exceeds
# ``max_tries`` and is failed without ever calling ``grade_submission`` -- are deliberately left to the
# API's deadline sweeper (``failed`` with reason / last_error_code ``timeout``), not handled in an
# ``on_job_end`` / ``after_job_end`` hook:
# - arq passes those hooks only ``ctx``, not the outcome, and runs them after retries as well, so a hook
#   would have to re-derive "failed for good" from Redis keys, racing arq's own bookkeeping;
# - a cancelled coroutine must not start new database work, and a killed worker runs no hook at all,
#   so the sweeper is needed anyway; one mechanism then covers every way a job can vanish;
# - WORKER_JOB_TIMEOUT_SECONDS (120 s) is far below the grading deadlines (20 / 60 min), so the sweeper
#   always comes after arq has finished with the job; a grade that still arrives is kept as ``late``.
# Errors the job sees itself (permanent ones, transient ones on the last try) are routed in jobs.py:
# auto -> failed, hybrid -> review_pending (high, ai_failed).
class WorkerSettings:
    functions: ClassVar[list[Function]] = [
        func(
            grade_submission,
            name=GRADE_SUBMISSION_FUNCTION,
            max_tries=MAX_TRIES,
            timeout=SETTINGS.job_timeout_s,
        )
    ]
    job_serializer = staticmethod(job_serializer)
    job_deserializer = staticmethod(job_deserializer)
    on_startup = staticmethod(startup)
    on_shutdown = staticmethod(shutdown)
    redis_settings = RedisSettings.from_dsn(SETTINGS.redis_url)
    queue_name = SETTINGS.queue_name
    max_jobs = SETTINGS.max_jobs
    job_timeout = SETTINGS.job_timeout_s
    health_check_interval = SETTINGS.health_check_interval_s
    poll_delay = 0.2
    max_tries = MAX_TRIES
