"""Test infrastructure: a private PostgreSQL database and a private redis-server per test session.

Nothing outside them is touched: the database ``vstep_test_py_<random>`` is created through the
``postgres`` database, migrated and seeded with the project's own CLI (bun), and dropped (with force)
at the end; redis-server runs on a free port without persistence and is stopped at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

GRADER_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = GRADER_DIR.parents[1]
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BUN = shutil.which("bun") or "/usr/bin/bun"


def wait_until(predicate: Any, timeout: float, interval: float = 0.1, what: str = "condition") -> Any:
    """Polls ``predicate`` until it returns a truthy value or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    name = f"vstep_test_py_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'create database "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        subprocess.run(
            [BUN, "packages/db/src/cli.ts", "seed"],
            cwd=REPO_ROOT,
            env={**os.environ, "DATABASE_URL": url},
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield url
    finally:
        asyncio.run(_admin(f'drop database if exists "{name}" with (force)'))


def start_redis(port: int) -> subprocess.Popen[bytes]:
    """A redis-server on ``port`` without persistence, returned once it answers PING."""
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_until(up, 15, what="redis-server")
    return proc


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 20 s."""
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    port = free_port()
    proc = start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop_process(proc)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        yield p
    finally:
        await p.close()


async def task_id(pool: asyncpg.Pool, slug: str) -> uuid.UUID:
    value: uuid.UUID = await pool.fetchval("select id from tasks where slug = $1", slug)
    assert value is not None, slug
    return value


async def create_user(pool: asyncpg.Pool) -> uuid.UUID:
    value: uuid.UUID = await pool.fetchval(
        """insert into users (email, password_hash, display_name)
           values ($1, 'x', 'Test Learner') returning id""",
        f"learner-{secrets.token_hex(6)}@example.test",
    )
    return value


async def create_submission(
    pool: asyncpg.Pool,
    *,
    slug: str = "w2-remote-work",
    answer_text: str | None,
    mode: str | None = None,
    audio_ref: str | None = None,
) -> uuid.UUID:
    """Inserts a ``pending`` submission (as the API would) for a new learner."""
    user = await create_user(pool)
    tid = await task_id(pool, slug)
    value: uuid.UUID = await pool.fetchval(
        """insert into submissions
             (user_id, task_id, skill, grading_mode, answer_text, audio_ref, word_count)
           select $1, t.id, t.skill, coalesce($3::grading_mode, t.grading_mode), $4, $5, $6
             from tasks t where t.id = $2
           returning id""",
        user,
        tid,
        mode,
        answer_text,
        audio_ref,
        len((answer_text or "").split()),
    )
    return value


DEADLINE_S = 60.0
"""How long the real-worker tests wait for an outcome before failing."""


def ts_cli(redis_url: str, *args: str) -> dict[str, Any]:
    """Runs the TypeScript arq CLI (apps/api/scripts/arq-cli.ts) and returns its one JSON line."""
    done = subprocess.run(
        [BUN, "apps/api/scripts/arq-cli.ts", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    value: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return value


async def wait_for_status(pool: asyncpg.Pool, sid: uuid.UUID, statuses: set[str]) -> str:
    """Polls the submission's status until it is one of ``statuses`` (a deadline, no fixed sleep)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        status: str = await pool.fetchval("select status::text from submissions where id = $1", sid)
        if status in statuses:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"submission {sid} still {status} after {DEADLINE_S}s")
        await asyncio.sleep(0.1)
