"""arq worker settings. Run with ``uv run python -m grader`` (supervised, see ``__main__``); plain
``uv run arq grader.worker.WorkerSettings`` works too but ends on a Redis outage.

Settings are read from the environment when this module is imported (see :mod:`grader.config`);
a bad or missing variable stops the process with a message naming it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import sys
from typing import Any, ClassVar

import asyncpg
from arq.connections import RedisSettings
from arq.worker import Function, func
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from grader.audio_store import AudioStoreConfigError, AudioStoreSettings, audio_store
from grader.config import ConfigError, Settings, load_settings
from grader.contracts.constants import GRADE_SUBMISSION_FUNCTION
from grader.jobs import MAX_TRIES, grade_submission
from grader.observability import observed, start_metrics_server
from grader.providers.factory import make_breakers, make_grader, make_remote_transcriber
from grader.serialization import job_deserializer, job_serializer

log = logging.getLogger("grader.worker")


def _load() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"grader worker: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


SETTINGS = _load()


def _load_audio_store() -> AudioStoreSettings:
    """Where recordings are read from (``AUDIO_STORAGE``, ``AUDIO_DIR``, ``S3_*``), checked at start-up."""
    try:
        return AudioStoreSettings.from_env(os.environ)
    except AudioStoreConfigError as exc:
        print(f"grader worker: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


AUDIO_STORE = _load_audio_store()


REDIS_RETRY_CAP_S = 2.0


def resilient_redis_settings(settings: Settings) -> RedisSettings:
    """arq's connection settings, riding out a Redis restart instead of dying with it.

    Out of the box, one failed Redis command (the poll loop runs several a second) ends the worker
    process. Here every command retries with capped exponential backoff for up to
    ``WORKER_REDIS_OUTAGE_SECONDS``; the worker just pauses, and the API's reconciler re-queues what
    a restarted Redis lost. Past that budget the process exits and its supervisor restarts it.
    """
    retries = max(1, math.ceil(settings.redis_outage_s / REDIS_RETRY_CAP_S))
    return dataclasses.replace(
        RedisSettings.from_dsn(settings.redis_url),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionError, OSError],
        retry=Retry(ExponentialBackoff(cap=REDIS_RETRY_CAP_S, base=0.05), retries),
        conn_retries=retries,
        conn_retry_delay=int(REDIS_RETRY_CAP_S),
    )


_pg_pool: asyncpg.Pool | None = None
"""Kept across supervised restarts: a worker that died on a Redis failure never ran ``shutdown``."""


async def startup(ctx: dict[str, Any]) -> None:
    """Opens the PostgreSQL pool (about one connection per concurrent job) and the scorer."""
    global _pg_pool
    logging.getLogger().setLevel(SETTINGS.log_level)
    start_metrics_server(SETTINGS.metrics_port, SETTINGS.metrics_host)
    ctx["settings"] = SETTINGS
    ctx["scorer"] = make_grader(SETTINGS)
    ctx["transcriber"] = make_remote_transcriber(SETTINGS)  # None: the offline recogniser
    remote = (ctx["scorer"], ctx["transcriber"])
    paid = [str(p.provider) for p in remote if p is not None and getattr(p, "paid", False)]
    ctx["breakers"] = make_breakers(SETTINGS, paid)
    if _pg_pool is None or _pg_pool.is_closing():
        _pg_pool = await asyncpg.create_pool(
            SETTINGS.database_url, min_size=SETTINGS.pg_pool_min, max_size=SETTINGS.max_jobs + 1
        )
    ctx["pg"] = _pg_pool
    ctx["audio_store"] = audio_store(AUDIO_STORE)
    log.info(
        "grader worker started: queue=%s provider=%s stt=%s fallback=%s",
        SETTINGS.queue_name,
        SETTINGS.grader_provider,
        SETTINGS.stt_provider,
        SETTINGS.fallback,
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    global _pg_pool
    pool: asyncpg.Pool | None = ctx.get("pg")
    if pool is not None:
        await pool.close()
    _pg_pool = None


ARQ_MAX_TRIES = MAX_TRIES + SETTINGS.breaker_max_deferrals
"""arq's own ceiling: the 4 real tries plus the runs an open breaker may defer (which jobs.py does not
count as tries); jobs.py gives up at the last of them itself, so arq's ceiling is never what ends a job."""


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
            # Logs carry the job's request id; jobs are counted and timed by outcome (observability.py).
            observed(grade_submission),
            name=GRADE_SUBMISSION_FUNCTION,
            max_tries=ARQ_MAX_TRIES,
            timeout=SETTINGS.job_timeout_s,
        )
    ]
    job_serializer = staticmethod(job_serializer)
    job_deserializer = staticmethod(job_deserializer)
    on_startup = staticmethod(startup)
    on_shutdown = staticmethod(shutdown)
    redis_settings = resilient_redis_settings(SETTINGS)
    queue_name = SETTINGS.queue_name
    max_jobs = SETTINGS.max_jobs
    job_timeout = SETTINGS.job_timeout_s
    health_check_interval = SETTINGS.health_check_interval_s
    poll_delay = SETTINGS.poll_delay_s
    max_tries = ARQ_MAX_TRIES
    # Graceful stop: on SIGTERM arq stops taking jobs, waits this long for the running ones, then
    # cancels the rest, which it hands back to the queue (not failed) for another worker to resume
    # from ``processing``. Keep it below the orchestrator's kill timeout (compose: stop_grace_period).
    job_completion_wait = SETTINGS.shutdown_grace_s
