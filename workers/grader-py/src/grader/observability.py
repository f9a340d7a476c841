"""The worker's logs and metrics.

Logs: one JSON object per line on stdout, through structlog, with the same field names as the API's
pino lines (``time``, ``level``, ``msg``, ``request_id``), so one query follows a submission across
both. The standard-library loggers (``grader.*``, arq's own) are rendered by the same processors, so
every line is JSON; a job's fields (``request_id``, ``submission_id``, ``job_try``) are bound as
context variables for the job's task, so every line the job writes carries them without passing them
around.

Metrics: prometheus_client's default registry (with its process collector: RSS, open fds, CPU),
served on ``WORKER_METRICS_PORT`` by :func:`start_metrics_server`. Each worker process is its own
scrape target: histograms cannot be summed honestly once pre-aggregated into Redis, and a port needs no
shared state. The circuit breakers stay in Redis (they are shared state anyway) and the API exports
them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import structlog
from arq import Retry
from prometheus_client import Counter, Histogram, start_http_server

JOBS = Counter(
    "grader_jobs",
    "grade_submission runs by outcome: the state the row reached (completed, review_pending, failed), "
    "retried (a transient error or an open breaker), gone (no row), cancelled or error",
    ["outcome"],
)
JOB_DURATION = Histogram(
    "grader_job_duration_seconds",
    "Wall time of one grade_submission run, by outcome",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
GRADING_LATENCY = Histogram(
    "grader_grading_latency_seconds",
    "Time spent in a grading provider call, by provider and step (score, transcribe)",
    ["provider", "step"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
]


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """JSON lines on stdout for structlog and standard-library loggers alike."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("msg"),
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("arq", "grader"):  # arq's default config gave these their own handlers
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


_metrics_server_started = False


def start_metrics_server(port: int, host: str) -> None:
    """Serves ``/metrics`` once per process (the supervisor restarts arq in the same process)."""
    global _metrics_server_started
    if port and not _metrics_server_started:
        start_http_server(port, addr=host)
        _metrics_server_started = True
        structlog.get_logger("grader.metrics").info("metrics served", port=port, host=host)


@contextmanager
def provider_call(provider: str, step: str) -> Iterator[None]:
    """Times one provider call (successful or not) into ``grader_grading_latency_seconds``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        GRADING_LATENCY.labels(provider=provider, step=step).observe(time.perf_counter() - started)


def outcome_of(result: Any) -> str:
    """The ``outcome`` label of a job's return value: the status it left, or ``gone`` (no row)."""
    if isinstance(result, dict) and isinstance(result.get("status"), str):
        return str(result["status"])
    return "gone"


Job = TypeVar("Job", bound=Callable[..., Awaitable[Any]])


def observed(job: Job) -> Job:
    """Wraps an arq job: binds its request id and submission id to every log line it writes, counts it
    by outcome and times it."""
    log = structlog.get_logger("grader.jobs")

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        fields = {
            "request_id": kwargs.get("request_id"),
            "submission_id": kwargs.get("submission_id"),
            "job_try": ctx.get("job_try"),
        }
        with structlog.contextvars.bound_contextvars(**{k: v for k, v in fields.items() if v is not None}):
            started = time.perf_counter()
            outcome = "error"
            log.info("job started")
            try:
                result = await job(ctx, *args, **kwargs)
                outcome = outcome_of(result)
                return result
            except Retry:
                outcome = "retried"
                raise
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            finally:
                elapsed = time.perf_counter() - started
                JOBS.labels(outcome=outcome).inc()
                JOB_DURATION.labels(outcome=outcome).observe(elapsed)
                log.info("job finished", outcome=outcome, duration_s=round(elapsed, 4))

    return cast(Job, run)
