"""Deleting an account while the worker writes its grade (issue 11, finding 4).

The worker's write transaction used to lock the submission, then (through the status event's
foreign key) the owner's ``users`` row; deleting the account locks the user row, then (by cascade)
the submission. Run at the same time, the two deadlocked (PostgreSQL 40P01). These tests run the
real ``grade_submission`` on a pool whose connections pause right before the grade insert, start the
account delete on another connection meanwhile, and check that both finish.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Generator
from typing import Any

import asyncpg
from conftest import create_submission
from samples import GOOD_ESSAY

from grader.config import Settings
from grader.jobs import grade_submission

DEADLINE_S = 20.0


class _PausingConnection:
    """Delegates to a real connection; the first grade insert waits until ``resume`` is set."""

    def __init__(self, conn: Any, paused: asyncio.Event, resume: asyncio.Event) -> None:
        self._conn = conn
        self._paused = paused
        self._resume = resume

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    async def fetchval(self, query: str, *args: Any) -> Any:
        if "insert into grades" in query and not self._paused.is_set():
            self._paused.set()
            await self._resume.wait()
        return await self._conn.fetchval(query, *args)


class _PausingPool:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.paused = asyncio.Event()
        self.resume = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def acquire(self) -> _PausingAcquire:
        return _PausingAcquire(self)

    async def release(self, conn: Any) -> None:
        await self._pool.release(conn._conn if isinstance(conn, _PausingConnection) else conn)


class _PausingAcquire:
    """Like asyncpg's acquire: awaited (``grader.db.transaction``) or used as ``async with``."""

    def __init__(self, owner: _PausingPool) -> None:
        self._owner = owner
        self._conn: _PausingConnection | None = None

    def __await__(self) -> Generator[Any, None, _PausingConnection]:
        return self._acquire().__await__()

    async def _acquire(self) -> _PausingConnection:
        conn = await self._owner._pool.acquire()
        return _PausingConnection(conn, self._owner.paused, self._owner.resume)

    async def __aenter__(self) -> _PausingConnection:
        self._conn = await self._acquire()
        return self._conn

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None:
            await self._owner.release(self._conn)


async def _wait_until_blocked(pool: asyncpg.Pool, pid: int) -> None:
    """Polls pg_locks until backend ``pid`` waits for a lock (a deadline, no fixed sleep)."""
    deadline = time.monotonic() + DEADLINE_S
    query = "select exists (select 1 from pg_locks where pid = $1 and not granted)"
    while not await pool.fetchval(query, pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"backend {pid} never waited for a lock")
        await asyncio.sleep(0.02)


async def _wait_until_set(event: asyncio.Event, task: asyncio.Task[Any]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not event.is_set():
        if task.done():
            task.result()  # raises what the task raised
            raise AssertionError("the job finished without reaching the grade insert")
        if time.monotonic() > deadline:
            raise TimeoutError("the job never reached the grade insert")
        await asyncio.sleep(0.02)


def _ctx(pool: Any) -> dict[str, Any]:
    settings = Settings(database_url="postgres://unused/db", spot_check_share=0.0)
    return {"pg": pool, "job_try": 1, "job_id": "test", "settings": settings}


async def _delete_account(conn: asyncpg.Connection[Any], user_id: uuid.UUID) -> str:
    # What the API's DELETE /v1/me does: lock the user row, then delete it (the cascade removes the
    # submissions, their grades, reviews and events).
    async with conn.transaction():
        await conn.execute("select 1 from users where id = $1 for update", user_id)
        return str(await conn.execute("delete from users where id = $1", user_id))


async def test_delete_during_the_grade_write_waits_for_it_and_neither_deadlocks(
    pool: asyncpg.Pool, database_url: str
) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    user_id: uuid.UUID = await pool.fetchval("select user_id from submissions where id = $1", sid)
    pausing = _PausingPool(pool)
    job = asyncio.create_task(grade_submission(_ctx(pausing), submission_id=str(sid)))
    await _wait_until_set(pausing.paused, job)  # the write transaction holds its locks now

    api = await asyncpg.connect(database_url)
    try:
        delete = asyncio.create_task(_delete_account(api, user_id))
        await _wait_until_blocked(pool, api.get_server_pid())
        pausing.resume.set()
        # Before the fix the job's status update waited for the user row the delete held, while the
        # delete waited for the submission the job held: one of the two died with 40P01.
        outcome = await asyncio.wait_for(job, DEADLINE_S)
        assert outcome is not None and outcome["status"] == "completed"
        assert await asyncio.wait_for(delete, DEADLINE_S) == "DELETE 1"
    finally:
        await api.close()
    assert await pool.fetchval("select count(*) from users where id = $1", user_id) == 0
    assert await pool.fetchval("select count(*) from submissions where id = $1", sid) == 0
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 0


async def test_a_job_writing_after_the_delete_began_finds_nothing_and_returns_quietly(
    pool: asyncpg.Pool, database_url: str
) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    user_id: uuid.UUID = await pool.fetchval("select user_id from submissions where id = $1", sid)
    await pool.execute("update submissions set status = 'processing' where id = $1", sid)
    api = await asyncpg.connect(database_url)
    try:
        tx = api.transaction()
        await tx.start()
        await api.execute("select 1 from users where id = $1 for update", user_id)
        assert await api.execute("delete from users where id = $1", user_id) == "DELETE 1"
        job = asyncio.create_task(grade_submission(_ctx(pool), submission_id=str(sid)))
        # The job's first lock (the owner's row) waits for the delete to end.
        deadline = time.monotonic() + DEADLINE_S
        while not await pool.fetchval(
            """select exists (select 1 from pg_locks l join pg_stat_activity a using (pid)
                              where not l.granted and a.datname = current_database() and a.pid <> $1)""",
            api.get_server_pid(),
        ):
            assert not job.done(), job
            assert time.monotonic() < deadline, "the job never waited for the delete"
            await asyncio.sleep(0.02)
        await tx.commit()
        assert await asyncio.wait_for(job, DEADLINE_S) is None
    finally:
        await api.close()
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 0
