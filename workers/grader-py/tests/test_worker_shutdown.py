"""SIGTERM to ``python -m grader``: running jobs finish within WORKER_SHUTDOWN_GRACE_SECONDS; a job
still running when the grace period ends goes back to the queue (not failed) and another worker
finishes it, with one grade."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import asyncpg
import redis
from conftest import GRADER_DIR, create_submission, ts_cli, wait_for_status, wait_until
from samples import GOOD_ESSAY

from grader.contracts.constants import GRADE_SUBMISSION_FUNCTION


def start_worker(database_url: str, redis_url: str, grace_s: int, delay_ms: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "GRADER_SPOT_CHECK_SHARE": "0",
        "GRADER_SCORE_DELAY_MS": str(delay_ms),
        "WORKER_SHUTDOWN_GRACE_SECONDS": str(grace_s),
    }
    env.pop("ARQ_QUEUE_NAME", None)
    return subprocess.Popen(
        [sys.executable, "-m", "grader"],
        cwd=GRADER_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_a_running_job_finishes_within_the_grace_period(
    database_url: str, redis_url: str, pool: asyncpg.Pool
) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    worker = start_worker(database_url, redis_url, grace_s=30, delay_ms=2000)
    try:
        ts_cli(redis_url, "enqueue", GRADE_SUBMISSION_FUNCTION, str(sid), f'{{"submission_id": "{sid}"}}')
        assert await wait_for_status(pool, sid, {"processing"}) == "processing"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    # the job was finished before the process left, not cut
    assert await pool.fetchval("select status::text from submissions where id = $1", sid) == "completed"
    assert await pool.fetchval("select attempts from submissions where id = $1", sid) == 1


async def test_a_job_still_running_after_the_grace_period_is_handed_back_and_finished_by_another(
    database_url: str, redis_url: str, pool: asyncpg.Pool
) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    r = redis.Redis.from_url(redis_url)
    first = start_worker(database_url, redis_url, grace_s=1, delay_ms=8000)
    second: subprocess.Popen[bytes] | None = None
    try:
        ts_cli(redis_url, "enqueue", GRADE_SUBMISSION_FUNCTION, str(sid), f'{{"submission_id": "{sid}"}}')
        assert await wait_for_status(pool, sid, {"processing"}) == "processing"
        first.send_signal(signal.SIGTERM)
        # handed back once the grace period is over: still queued, no longer held, not failed (the
        # process itself leaves when the scoring thread it cannot interrupt returns)
        wait_until(lambda: not r.exists(f"arq:in-progress:{sid}"), 6, what="the job to be handed back")
        assert first.wait(20) == 0
        assert r.zscore("arq:queue", str(sid)) is not None
        assert not r.exists(f"arq:in-progress:{sid}")
        assert await pool.fetchval("select status::text from submissions where id = $1", sid) == "processing"
        second = start_worker(database_url, redis_url, grace_s=30, delay_ms=0)
        assert await wait_for_status(pool, sid, {"completed", "failed", "review_pending"}) == "completed"
        wait_until(lambda: not r.exists(f"arq:job:{sid}"), 10, what="arq to finish the job")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(30)
        r.close()
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 1
