"""A worker killed mid-job loses nothing: another worker finishes the job, with one grade.

The first worker claims the job and moves the submission to ``processing``; the test holds a lock
on ``grades`` so the worker's final write blocks, then kills the worker outright (SIGKILL, no
clean-up). arq keeps the job in the queue; once the dead worker's in-progress marker expires
(job timeout + 10 s), a second worker runs it again, resumes from ``processing`` and completes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import asyncpg
import pytest
import redis
from conftest import (
    GRADER_DIR,
    create_submission,
    free_port,
    start_redis,
    stop_process,
    ts_cli,
    wait_for_status,
    wait_until,
)
from samples import GOOD_ESSAY

from grader.contracts.constants import GRADE_SUBMISSION_FUNCTION

JOB_TIMEOUT_S = 3
"""Short, so the dead worker's in-progress marker (timeout + 10 s) expires within the test."""


@pytest.fixture
def redis_url() -> Iterator[str]:  # this module's own Redis: it outlives no test
    port = free_port()
    server = start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop_process(server)


def start_worker(database_url: str, redis_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "GRADER_SPOT_CHECK_SHARE": "0",
        "WORKER_JOB_TIMEOUT_SECONDS": str(JOB_TIMEOUT_S),
    }
    env.pop("ARQ_QUEUE_NAME", None)
    # Its own process group, so SIGKILL reaches the Python process behind `uv run` too.
    return subprocess.Popen(
        ["uv", "run", "--frozen", "python", "-m", "grader"],
        cwd=GRADER_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.fixture
def workers(database_url: str, redis_url: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for proc in started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(20)


async def test_a_job_whose_worker_was_killed_is_finished_by_another_with_one_grade(
    database_url: str, redis_url: str, workers: list[subprocess.Popen[bytes]], pool: asyncpg.Pool
) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    blocker = await asyncpg.connect(database_url)
    r = redis.Redis.from_url(redis_url)
    try:
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute("lock table grades in share mode")  # the final write will wait here

        workers.append(start_worker(database_url, redis_url))
        ts_cli(redis_url, "enqueue", GRADE_SUBMISSION_FUNCTION, str(sid), f'{{"submission_id": "{sid}"}}')
        assert await wait_for_status(pool, sid, {"processing"}) == "processing"
        assert r.exists(f"arq:in-progress:{sid}")

        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait(20)
        await tx.rollback()

        workers.append(start_worker(database_url, redis_url))
        assert await wait_for_status(pool, sid, {"completed", "failed", "review_pending"}) == "completed"
        wait_until(lambda: not r.exists(f"arq:job:{sid}"), 10, what="arq to finish the job")
    finally:
        await blocker.close()
        r.close()

    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 1
    transitions = await pool.fetch(
        """select from_status::text, to_status::text from submission_events
            where submission_id = $1 order by id""",
        sid,
    )
    assert [tuple(t) for t in transitions] == [
        (None, "pending"),
        ("pending", "processing"),
        ("processing", "completed"),
    ]
    assert await pool.fetchval("select attempts from submissions where id = $1", sid) == 2
