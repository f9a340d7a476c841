"""A broken database connection is transient whatever asyncpg class it arrives as, and the worker's
supervisor restarts arq on any Redis error (issue 14: ``WatchError`` from arq's ``start_jobs`` and
``InternalClientError`` after a PostgreSQL restart used to end a job or the whole process)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from arq import Retry
from conftest import create_submission
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError, WatchError
from samples import GOOD_ESSAY
from test_jobs import FlakyPool, ctx_for

from grader.db import is_connection_failure, transaction
from grader.jobs import grade_submission, is_transient, mark_failed


def chained(outer: BaseException, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise outer from inner
    except BaseException as exc:
        return exc


BROKEN = [
    asyncpg.exceptions.InternalClientError("cannot switch to state 15; another operation is in progress"),
    asyncpg.exceptions.InterfaceError("connection is closed"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    ConnectionRefusedError(111, "Connection refused"),
    ConnectionResetError(104, "Connection reset by peer"),
    # a rollback failing on the dead connection, with the real cause inside
    chained(RuntimeError("rollback failed"), asyncpg.exceptions.InterfaceError("connection is closed")),
]


@pytest.mark.parametrize("exc", BROKEN, ids=lambda e: type(e).__name__)
def test_a_broken_connection_is_a_connection_failure_and_transient(exc: BaseException) -> None:
    assert is_connection_failure(exc)
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("a bug"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.CheckViolationError("submission_status_transition"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_statement_error_is_not_a_connection_failure(exc: BaseException) -> None:
    assert not is_connection_failure(exc)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.InternalClientError("cannot switch to state 15; another operation is in progress"),
        asyncpg.exceptions.InterfaceError("connection is closed"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_a_job_whose_connection_broke_is_retried_not_failed(
    pool: asyncpg.Pool, error: Exception
) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    with pytest.raises(Retry):
        await grade_submission(ctx_for(FlakyPool(pool, 1, error), job_try=1), submission_id=str(sid))
    assert await pool.fetchval("select status::text from submissions where id = $1", sid) == "pending"
    out = await grade_submission(ctx_for(pool, job_try=2), submission_id=str(sid))
    assert out is not None and out["status"] == "completed"


async def _terminate(database_url: str, pid: int) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        assert await admin.fetchval("select pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_the_server_killed_is_discarded_and_marking_failed_uses_a_fresh_one(
    database_url: str, pool: asyncpg.Pool
) -> None:
    sid = await create_submission(pool, answer_text=GOOD_ESSAY)
    await pool.execute("update submissions set status = 'processing' where id = $1", sid)
    single = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        before: int = await single.fetchval("select pg_backend_pid()")
        await _terminate(database_url, before)  # the pool's only connection dies while idle
        status, _ = await mark_failed(single, sid, "retries_exhausted", "test")
        assert status == "failed"
        after: int = await single.fetchval("select pg_backend_pid()")
        assert after != before
    finally:
        await single.close()
    row = await pool.fetchrow("select status::text, last_error_code from submissions where id = $1", sid)
    assert row is not None and tuple(row) == ("failed", "retries_exhausted")


async def test_a_connection_that_breaks_inside_a_transaction_is_terminated_not_reused(
    database_url: str,
) -> None:
    single = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        with pytest.raises(Exception) as caught:
            async with transaction(single) as conn:
                pid: int = await conn.fetchval("select pg_backend_pid()")
                await _terminate(database_url, pid)
                await conn.execute("select 1")
        assert is_connection_failure(caught.value)
        # the next caller gets a new connection at once, not the broken one
        assert await asyncio.wait_for(single.fetchval("select pg_backend_pid()"), 5) != pid
    finally:
        await single.close()


@pytest.mark.parametrize(
    "exc",
    [
        WatchError("A ConnectionError occurred on while watching one or more keys"),
        RedisConnectionError("Connection closed by server."),
        ResponseError("LOADING Redis is loading the dataset in memory"),
        ConnectionRefusedError(111, "Connection refused"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_supervisor_restarts_on_any_redis_or_connection_error(exc: BaseException) -> None:
    from grader.__main__ import restartable

    assert restartable(exc)
    assert not restartable(ValueError("a bug"))


def test_the_supervisor_restarts_arq_after_a_watch_error_and_stops_on_a_clean_return(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    import grader.__main__ as entry

    monkeypatch.setenv("DATABASE_URL", database_url)
    runs: list[int] = []
    pauses: list[float] = []

    def fake_run_worker(settings: Any) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise WatchError("A ConnectionError occurred on while watching one or more keys")

    monkeypatch.setattr(entry, "run_worker", fake_run_worker)
    monkeypatch.setattr("grader.__main__.time.sleep", pauses.append)
    monkeypatch.setattr(entry, "configure_logging", lambda *a, **k: None, raising=False)
    entry.run_supervised()
    assert len(runs) == 2
    assert pauses == [entry.RESTART_BASE_S]
