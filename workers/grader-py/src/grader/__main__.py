"""The worker's entry point: ``uv run python -m grader [--watch DIR]``.

It runs arq's worker (``grader.worker.WorkerSettings``) under a small supervisor. An arq worker
process ends on the first Redis failure its connection retries do not absorb (for instance a
connection that drops during the handshake while Redis restarts, or a ``WatchError`` that redis-py
raises when the connection of arq's WATCH pipeline in ``start_jobs`` breaks). Here any Redis error,
socket error or database connection failure (:func:`restartable`) restarts the worker in the same
process after a capped backoff, so an outage pauses grading instead of stopping it; the API's
reconciler re-queues whatever a restarted Redis lost. SIGTERM / SIGINT still stop it cleanly: arq
stops taking jobs, lets running ones finish for ``WORKER_SHUTDOWN_GRACE_SECONDS`` and hands the rest
back to the queue (see ``grader.worker``). ``--watch`` reloads on code changes (development).
"""

from __future__ import annotations

import argparse
import logging
import time

from arq.worker import run_worker
from redis.exceptions import RedisError

from grader.db import is_connection_failure
from grader.observability import configure_logging

log = logging.getLogger("grader.supervisor")

RESTART_BASE_S = 0.5
RESTART_CAP_S = 10.0
HEALTHY_RUN_S = 60.0
"""A worker that ran this long before failing starts the backoff afresh."""


def next_delay(previous: float, ran_for: float) -> float:
    """Capped exponential backoff between restarts, reset after a healthy run."""
    if ran_for >= HEALTHY_RUN_S:
        return RESTART_BASE_S
    return min(RESTART_CAP_S, max(RESTART_BASE_S, previous * 2))


def restartable(exc: BaseException) -> bool:
    """An outage, not a bug: any Redis error (connection, timeout, ``WatchError``, a ``ResponseError``
    such as LOADING while a restarted Redis reads its data), a socket error, or a database connection
    failure (the pool opened at start-up while PostgreSQL was down)."""
    return isinstance(exc, RedisError | OSError) or is_connection_failure(exc)


def run_supervised() -> None:
    # Configured here, not in main(): under --watch this runs in a fresh child process.
    configure_logging()  # JSON lines (grader.observability); the level follows LOG_LEVEL at start-up
    from grader.worker import WorkerSettings  # imported here: it validates the environment

    delay = RESTART_BASE_S / 2
    while True:
        started = time.monotonic()
        try:
            run_worker(WorkerSettings)  # type: ignore[arg-type]
            return  # a clean stop (signal)
        except Exception as exc:
            if not restartable(exc):
                raise
            delay = next_delay(delay, time.monotonic() - started)
            log.warning("%s: %s; restarting the worker in %.1fs", type(exc).__name__, exc, delay)
            time.sleep(delay)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m grader", description="VSTEP grading worker (arq)")
    parser.add_argument("--watch", metavar="DIR", help="restart when files under DIR change (development)")
    args = parser.parse_args()
    if args.watch:
        from watchfiles import run_process  # a development dependency

        # By dotted path: the child process imports it (a function object of __main__ would not pickle).
        run_process(args.watch, target="grader.__main__.run_supervised", target_type="function")
    else:
        run_supervised()


if __name__ == "__main__":
    main()
