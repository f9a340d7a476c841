"""The Redis circuit breaker against a real redis-server: two breaker objects on two connections
stand for two worker processes sharing one provider's breaker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from grader.breaker import BreakerConfig, RedisBreaker, breaker_keys

CONFIG = BreakerConfig(window=20, min_calls=10, failure_rate=0.5, open_s=0.5, half_open_calls=3)


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[tuple[aioredis.Redis, aioredis.Redis]]:
    a, b = aioredis.Redis.from_url(redis_url), aioredis.Redis.from_url(redis_url)
    try:
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


async def call(breaker: RedisBreaker, r: aioredis.Redis, ok: bool) -> bool:
    permit = await breaker.acquire(r)
    if permit.allowed:
        await breaker.record(r, ok, permit)
    return permit.allowed


async def test_opens_above_the_failure_rate_only_after_the_minimum_calls_in_every_process(
    clients: tuple[aioredis.Redis, aioredis.Redis],
) -> None:
    a, b = clients
    name = f"p-{uuid.uuid4().hex[:8]}"
    one, two = RedisBreaker(name, CONFIG), RedisBreaker(name, CONFIG)
    for _ in range(9):  # 9 failures: below min_calls, stays closed
        assert await call(one, a, False)
    assert (await two.acquire(b)).state == "closed"
    assert await call(two, b, False)  # the 10th call (from the other process) opens it
    permit = await one.acquire(a)
    assert not permit.allowed and permit.state == "open" and 0 < permit.retry_after_s <= CONFIG.open_s
    raw: dict[bytes, bytes] = await a.hgetall(breaker_keys(name)[2])  # type: ignore[misc]
    counters = {k.decode(): int(v) for k, v in raw.items()}
    assert counters["failure"] == 10 and counters["to_open"] == 1 and counters["rejected"] == 1


async def test_exactly_50_percent_stays_closed(clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    a, _ = clients
    breaker = RedisBreaker(f"p-{uuid.uuid4().hex[:8]}", CONFIG)
    for i in range(20):
        assert await call(breaker, a, i % 2 == 0)
    assert (await breaker.acquire(a)).state == "closed"


async def test_half_open_lets_exactly_the_trials_through_and_closes_on_their_success(
    clients: tuple[aioredis.Redis, aioredis.Redis],
) -> None:
    a, b = clients
    name = f"p-{uuid.uuid4().hex[:8]}"
    one, two = RedisBreaker(name, CONFIG), RedisBreaker(name, CONFIG)
    for _ in range(10):
        await call(one, a, False)
    assert not (await one.acquire(a)).allowed
    await asyncio.sleep(CONFIG.open_s + 0.05)  # the cooldown itself is what is under test
    permits = [await one.acquire(a), await two.acquire(b), await one.acquire(a), await two.acquire(b)]
    assert [p.allowed for p in permits] == [True, True, True, False]
    assert all(p.trial for p in permits[:3]) and permits[0].state == "half_open"
    for p in permits[:3]:
        await one.record(a, True, p)
    assert (await two.acquire(b)).state == "closed"


async def test_a_failing_trial_opens_it_again(clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    a, _ = clients
    breaker = RedisBreaker(f"p-{uuid.uuid4().hex[:8]}", CONFIG)
    for _ in range(10):
        await call(breaker, a, False)
    await asyncio.sleep(CONFIG.open_s + 0.05)
    trial = await breaker.acquire(a)
    assert trial.allowed and trial.trial
    assert await breaker.record(a, False, trial) == "open"
    assert not (await breaker.acquire(a)).allowed
