"""A circuit breaker per provider, shared by every worker process through Redis (:mod:`.redis_breaker`)."""

from __future__ import annotations

from grader.breaker.redis_breaker import BreakerConfig, Permit, RedisBreaker, breaker_keys

__all__ = ["BreakerConfig", "Permit", "RedisBreaker", "breaker_keys"]
