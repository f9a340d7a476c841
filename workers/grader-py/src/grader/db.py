"""PostgreSQL access that survives a database restart.

A restart (or a network cut) reaches asyncpg code in many shapes: ``ConnectionRefusedError`` or
another ``OSError`` while connecting, ``ConnectionDoesNotExistError`` / ``AdminShutdownError`` from
the server, ``InterfaceError`` ("connection is closed") and even ``InternalClientError`` ("cannot
switch to state 15; another operation is in progress") when a rollback runs on a connection whose
protocol died half-way through a query. All of them mean the same thing to a job: the connection is
gone, retry later. :func:`is_connection_failure` recognises them wherever they sit in an exception's
chain, and :func:`transaction` throws such a connection away (and expires the pool's idle ones,
opened before the restart) instead of handing it to the next caller, so marking a row failed never
reuses the connection that just broke.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused / reset / broken pipe (ConnectionError is one)
    asyncio.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError, ...
    asyncpg.exceptions.InterfaceError,  # "connection is closed", "... in the middle of operation"
    asyncpg.exceptions.InternalClientError,  # "cannot switch to state N; another operation is in progress"
    asyncpg.exceptions.OperatorInterventionError,  # AdminShutdown, CrashShutdown, CannotConnectNow
    asyncpg.exceptions.TooManyConnectionsError,
)
"""Exception classes that mean the database connection (not the statement) failed."""

MAX_CHAIN = 16


def is_connection_failure(exc: BaseException | None) -> bool:
    """True when ``exc`` or anything in its ``__cause__`` / ``__context__`` chain is a connection failure."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < MAX_CHAIN:
        if isinstance(exc, CONNECTION_ERRORS):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[PoolConnectionProxy[Any]]:
    """A pooled connection in a transaction. On a connection failure the connection is terminated
    (never returned to the pool as it is) and the pool's other connections are expired, so the next
    ``acquire`` opens a fresh one."""
    conn: PoolConnectionProxy[Any] = await pool.acquire()
    try:
        async with conn.transaction():
            yield conn
    except BaseException as exc:
        if is_connection_failure(exc):
            await discard(pool, conn)
        raise
    finally:
        try:
            await pool.release(conn)
        except Exception:  # releasing a dead connection must not hide the real error
            pass


async def discard(pool: asyncpg.Pool, conn: PoolConnectionProxy[Any]) -> None:
    """Terminates a broken connection and marks the pool's idle ones for replacement."""
    try:
        conn.terminate()
    except Exception:  # it is already broken
        pass
    await pool.expire_connections()


T = TypeVar("T")


async def with_reconnect(
    action: Callable[[], Awaitable[T]], budget_s: float, first_delay_s: float = 0.2, cap_s: float = 2.0
) -> T:
    """Runs ``action`` again after a connection failure, with capped exponential backoff, until
    ``budget_s`` seconds have passed; any other error, or the last failure, propagates."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    delay = first_delay_s
    while True:
        try:
            return await action()
        except Exception as exc:
            if not is_connection_failure(exc) or loop.time() + delay > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(cap_s, delay * 2)
