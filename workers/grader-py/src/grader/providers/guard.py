"""One provider call through its circuit breaker, off the event loop.

Every paid provider (the chat grader, the speech-to-text adapter) is called through its breaker in
``ctx["breakers"]`` (built in :mod:`grader.worker`, shared by every worker through Redis): an open
breaker raises :class:`BreakerOpen` without calling (jobs.py defers the job, no try spent); a
transient failure (:class:`ProviderUnavailable`) counts against the provider; an answer, even an
unhelpful one (:class:`ProviderRejected`, :class:`ScoringError`), counts as the provider being up.
A provider without a breaker (the offline ones) is simply called.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from grader.breaker import RedisBreaker
from grader.providers.errors import BreakerOpen, ProviderRejected, ProviderUnavailable
from grader.scoring.base import ScoringError

T = TypeVar("T")


async def through_breaker(ctx: dict[str, Any], provider: str, call: Callable[[], T]) -> T:
    """Runs the blocking ``call`` in a thread, guarded by ``provider``'s breaker when it has one."""
    breakers: dict[str, RedisBreaker] = ctx.get("breakers") or {}
    breaker = breakers.get(provider)
    redis = ctx.get("redis")
    if breaker is None or redis is None:
        return await asyncio.to_thread(call)
    permit = await breaker.acquire(redis)
    if not permit.allowed:
        raise BreakerOpen(provider, f"circuit breaker {permit.state}", permit.retry_after_s)
    try:
        result = await asyncio.to_thread(call)
    except ProviderUnavailable:
        await breaker.record(redis, False, permit)
        raise
    except (ProviderRejected, ScoringError):
        await breaker.record(redis, True, permit)  # it answered: up, if unhelpful
        raise
    await breaker.record(redis, True, permit)
    return result
