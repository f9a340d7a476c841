"""A Redis restart must pause the real worker, not kill it.

Out of the box an arq worker process exits on the first Redis failure. ``python -m grader`` retries
commands with backoff and restarts arq's worker in-process when a failure gets through. This test
takes Redis away under a running worker, lets the worker knock on a stand-in socket that drops the
connection mid-handshake (the harshest case), brings a fresh, empty Redis back on the same port, and
checks that the same process grades again.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator

import asyncpg
import pytest
import redis
from conftest import (
    DEADLINE_S,
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

from grader.contracts.constants import DEFAULT_QUEUE_NAME, GRADE_SUBMISSION_FUNCTION

HEALTH_KEY = f"{DEFAULT_QUEUE_NAME}:health-check"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def redis_server(port: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    servers = [start_redis(port)]  # a list: the test replaces the server
    try:
        yield servers
    finally:
        for server in servers:
            if server.poll() is None:
                stop_process(server)


@pytest.fixture
def worker(
    database_url: str, port: int, redis_server: list[subprocess.Popen[bytes]]
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{port}",
        "GRADER_SPOT_CHECK_SHARE": "0",
        "WORKER_REDIS_OUTAGE_SECONDS": "60",
        "WORKER_HEALTH_CHECK_INTERVAL_SECONDS": "1",
    }
    env.pop("ARQ_QUEUE_NAME", None)
    proc = subprocess.Popen(
        ["uv", "run", "--frozen", "python", "-m", "grader"],
        cwd=GRADER_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        stop_process(proc)


def wait_for_polling(url: str) -> None:
    probe = redis.Redis.from_url(url)
    try:
        wait_until(lambda: probe.exists(HEALTH_KEY), DEADLINE_S, what="the worker to poll")
    finally:
        probe.close()


async def test_worker_survives_a_redis_restart_and_keeps_grading(
    port: int,
    redis_server: list[subprocess.Popen[bytes]],
    worker: subprocess.Popen[bytes],
    pool: asyncpg.Pool,
) -> None:
    url = f"redis://127.0.0.1:{port}"
    wait_for_polling(url)

    # Redis goes away. A plain socket takes its port to see the worker knock while it is down.
    stop_process(redis_server[0])
    with socket.create_server(("127.0.0.1", port)) as stand_in:
        stand_in.settimeout(DEADLINE_S)
        knock, _ = stand_in.accept()  # the worker retrying, instead of having exited
        knock.close()
    assert worker.poll() is None, f"the worker exited with {worker.returncode} when Redis went away"

    # A fresh, empty Redis comes back on the same port; the same worker process grades again.
    redis_server.append(start_redis(port))
    wait_for_polling(url)
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    queued = ts_cli(url, "enqueue", GRADE_SUBMISSION_FUNCTION, str(sid), f'{{"submission_id": "{sid}"}}')
    assert queued["enqueued"] is True
    assert await wait_for_status(pool, sid, {"completed", "failed", "review_pending"}) == "completed"
    assert worker.poll() is None


def test_restart_backoff_doubles_to_a_cap_and_resets_after_a_healthy_run() -> None:
    from grader.__main__ import HEALTHY_RUN_S, RESTART_BASE_S, RESTART_CAP_S, next_delay

    delays = [RESTART_BASE_S / 2]
    for _ in range(8):
        delays.append(next_delay(delays[-1], ran_for=1.0))
    assert delays[1:4] == [RESTART_BASE_S, 2 * RESTART_BASE_S, 4 * RESTART_BASE_S]
    assert delays[-1] == RESTART_CAP_S
    assert next_delay(RESTART_CAP_S, ran_for=HEALTHY_RUN_S) == RESTART_BASE_S
