"""End to end: a real ``uv run python -m grader`` worker process, jobs enqueued by the
TypeScript producer (apps/api/scripts/arq-cli.ts), and the arq protocol seen from both languages.

Synchronisation is by polling a condition with a deadline, never by fixed sleeps.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
import redis
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.jobs import Job, JobStatus
from conftest import (
    DEADLINE_S,
    GRADER_DIR,
    create_submission,
    stop_process,
    ts_cli,
    wait_for_status,
    wait_until,
)
from samples import GOOD_ESSAY

from grader.contracts.constants import DEFAULT_QUEUE_NAME, GRADE_SUBMISSION_FUNCTION
from grader.serialization import job_deserializer, job_serializer

IDLE_QUEUE = "arq:queue:test-idle"
"""A queue no worker reads, so enqueued jobs stay ``queued`` while the protocol is inspected."""


@pytest.fixture(scope="module")
def worker(database_url: str, redis_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """The real worker as a subprocess, ready once it has written its health-check key."""
    r = redis.Redis.from_url(redis_url)
    r.delete(f"{DEFAULT_QUEUE_NAME}:health-check")
    log_path = GRADER_DIR / ".pytest_cache" / f"worker-{os.getpid()}.log"
    log_path.parent.mkdir(exist_ok=True)
    log = log_path.open("wb")
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WORKER_MAX_JOBS": "4",
        # no random spot checks: the outcomes below are compared exactly
        "GRADER_SPOT_CHECK_SHARE": "0",
    }
    env.pop("ARQ_QUEUE_NAME", None)
    proc = subprocess.Popen(
        ["uv", "run", "python", "-m", "grader"], cwd=GRADER_DIR, env=env, stdout=log, stderr=log
    )
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited with {proc.returncode}; see {log_path}")
            return bool(r.exists(f"{DEFAULT_QUEUE_NAME}:health-check"))

        wait_until(ready, DEADLINE_S, what="the worker's health check")
        yield proc
    finally:
        stop_process(proc)
        log.close()
        r.close()


@pytest.fixture
async def arq_redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(
        RedisSettings.from_dsn(redis_url), job_serializer=job_serializer, job_deserializer=job_deserializer
    )
    try:
        yield pool
    finally:
        await pool.aclose()


async def wait_for_result(job: Job) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        info = await job.result_info()
        if info is not None:
            return {"s": info.success, "r": info.result, "t": info.job_try, "f": info.function}
        if time.monotonic() > deadline:
            raise TimeoutError("no result record")
        await asyncio.sleep(0.1)


async def test_ts_enqueue_then_python_sees_queued_and_duplicate(
    redis_url: str, arq_redis: ArqRedis, pool: asyncpg.Pool
) -> None:
    sid = str(await create_submission(pool, answer_text=GOOD_ESSAY))
    kwargs = json.dumps({"submission_id": sid})
    assert ts_cli(redis_url, "enqueue", GRADE_SUBMISSION_FUNCTION, sid, kwargs, IDLE_QUEUE) == {
        "enqueued": True,
        "id": sid,
    }
    job = Job(sid, arq_redis, _queue_name=IDLE_QUEUE, _deserializer=job_deserializer)
    assert await job.status() == JobStatus.queued
    info = await job.info()
    assert info is not None and info.function == GRADE_SUBMISSION_FUNCTION
    assert info.kwargs == {"submission_id": sid} and list(info.args) == []
    dup = await arq_redis.enqueue_job(
        GRADE_SUBMISSION_FUNCTION, _job_id=sid, _queue_name=IDLE_QUEUE, submission_id=sid
    )
    assert dup is None
    assert (
        ts_cli(redis_url, "enqueue", GRADE_SUBMISSION_FUNCTION, sid, kwargs, IDLE_QUEUE)["enqueued"] is False
    )


async def test_python_enqueue_then_ts_sees_duplicate_and_queued(redis_url: str, arq_redis: ArqRedis) -> None:
    sid = str(uuid.uuid4())
    job = await arq_redis.enqueue_job(
        GRADE_SUBMISSION_FUNCTION, _job_id=sid, _queue_name=IDLE_QUEUE, submission_id=sid
    )
    assert job is not None and job.job_id == sid
    out = ts_cli(
        redis_url, "enqueue", GRADE_SUBMISSION_FUNCTION, sid, json.dumps({"submission_id": sid}), IDLE_QUEUE
    )
    assert out == {"enqueued": False, "id": sid}
    assert ts_cli(redis_url, "status", sid, IDLE_QUEUE) == {"status": "queued"}
    # the stored definition is the JSON layout the TypeScript side writes too
    raw = await arq_redis.get(f"arq:job:{sid}")
    assert raw is not None
    stored = json.loads(raw)
    assert set(stored) == {"t", "f", "a", "k", "et"} and stored["k"] == {"submission_id": sid}


async def test_real_worker_grades_a_ts_enqueued_job_and_both_sides_read_the_result(
    worker: subprocess.Popen[bytes], redis_url: str, arq_redis: ArqRedis, pool: asyncpg.Pool
) -> None:
    sid_uuid = await create_submission(pool, answer_text=GOOD_ESSAY)
    sid = str(sid_uuid)
    enq = ts_cli(redis_url, "enqueue", GRADE_SUBMISSION_FUNCTION, sid, json.dumps({"submission_id": sid}))
    assert enq == {"enqueued": True, "id": sid}

    assert await wait_for_status(pool, sid_uuid, {"completed", "review_pending", "failed"}) == "completed"
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid_uuid) == 1
    events = await pool.fetch(
        """select from_status::text, to_status::text, actor
             from submission_events where submission_id = $1 order by id""",
        sid_uuid,
    )
    assert [(e[0], e[1]) for e in events] == [
        (None, "pending"),
        ("pending", "processing"),
        ("processing", "completed"),
    ]
    assert [e[2] for e in events[1:]] == ["worker", "worker"]

    # Python's arq reader sees the success record ...
    job = Job(sid, arq_redis, _deserializer=job_deserializer)
    record = await wait_for_result(job)
    expected = {"submission_id": sid, "status": "completed", "grade_written": True, "review_priority": None}
    assert record == {"s": True, "r": expected, "t": 1, "f": GRADE_SUBMISSION_FUNCTION}
    assert await job.result(timeout=5) == expected
    assert await job.status() == JobStatus.complete
    # ... and so does the TypeScript one
    ts_result = ts_cli(redis_url, "result", sid)["result"]
    assert ts_result["s"] is True and ts_result["r"] == expected and ts_result["id"] == sid
    assert ts_cli(redis_url, "status", sid) == {"status": "complete"}
    # a second enqueue of the same id is refused while the result is kept
    assert (
        ts_cli(redis_url, "enqueue", GRADE_SUBMISSION_FUNCTION, sid, json.dumps({"submission_id": sid}))[
            "enqueued"
        ]
        is False
    )


async def test_real_worker_records_a_failure_readably(
    worker: subprocess.Popen[bytes], redis_url: str, arq_redis: ArqRedis
) -> None:
    """An invalid payload fails permanently (not retried) and the exception survives JSON."""
    jid = f"bad-{uuid.uuid4().hex}"
    assert ts_cli(redis_url, "enqueue", GRADE_SUBMISSION_FUNCTION, jid, '{"submission_id":"nope"}')[
        "enqueued"
    ]
    record = await wait_for_result(Job(jid, arq_redis, _deserializer=job_deserializer))
    assert record["s"] is False and record["t"] == 1
    assert record["r"]["__exc__"] == "PermanentJobError" and "invalid_payload" in record["r"]["msg"]
    ts_result = ts_cli(redis_url, "result", jid)["result"]
    assert ts_result["s"] is False and ts_result["r"]["__exc__"] == "PermanentJobError"


async def test_real_worker_grades_many_submissions_once_each(
    worker: subprocess.Popen[bytes], redis_url: str, pool: asyncpg.Pool
) -> None:
    sids = [await create_submission(pool, answer_text=GOOD_ESSAY, mode="hybrid") for _ in range(5)]
    for sid in sids:
        for _ in range(2):  # duplicate enqueues are no-ops
            ts_cli(
                redis_url,
                "enqueue",
                GRADE_SUBMISSION_FUNCTION,
                str(sid),
                json.dumps({"submission_id": str(sid)}),
            )
    for sid in sids:
        assert await wait_for_status(pool, sid, {"completed", "review_pending", "failed"}) in {
            "completed",
            "review_pending",
        }
    counts = await pool.fetch(
        "select submission_id, count(*) from grades where submission_id = any($1::uuid[]) group by 1", sids
    )
    assert sorted(c[1] for c in counts) == [1] * 5


def test_worker_refuses_to_start_without_database_url() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        ["uv", "run", "python", "-m", "grader"],
        cwd=GRADER_DIR,
        env={**env, "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "DATABASE_URL is required" in done.stderr
