"""A count-based circuit breaker whose whole state lives in Redis, changed by ONE Lua script.

Every worker process asks the same script, so they share one breaker per provider, and every time
comes from Redis' own clock (``TIME``), so workers with skewed clocks agree on when a cooldown ends.

- **closed**: each call's outcome goes into a window of the last ``window`` outcomes (a Redis list).
  Once the window holds at least ``min_calls`` outcomes and the share of failures is above
  ``failure_rate``, the breaker opens.
- **open**: no call is let through for ``open_s`` seconds; callers are told how long is left (the job
  is deferred by that much, not failed).
- **half_open**: after the cooldown, exactly ``half_open_calls`` trial calls are let through; any
  failing trial opens it again, all of them succeeding closes it (with an empty window). Trials that
  never report (a worker killed mid-call) are given up after another ``open_s``.

Failures are the transient provider errors (timeouts, connection errors, 429, 408, 5xx); a provider
that answers (even a rejection or an unusable grade) is up, so that counts as a success.

Keys (``breaker_keys``): ``grader:breaker:<p>`` (hash: state, opened_at, trials, trial_ok, since),
``grader:breaker:<p>:window`` (list), ``grader:breaker:<p>:calls`` (hash of counters: success,
failure, rejected, to_open, to_half_open, to_closed) and the set ``grader:breakers`` of provider
names. The API's ``/metrics`` reads them (``grader_breaker_state``, ``grader_provider_calls_total``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("grader.breaker")

REGISTRY_KEY = "grader:breakers"

SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op, name = ARGV[1], ARGV[2]
local window, min_calls = tonumber(ARGV[3]), tonumber(ARGV[4])
local rate, open_ms, trials_max = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
redis.call('SADD', KEYS[4], name)
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local changed = ''
local function to(s)
  if s ~= state then
    changed = state .. '>' .. s
    state = s
    redis.call('HINCRBY', KEYS[3], 'to_' .. s, 1)
  end
  redis.call('HSET', KEYS[1], 'state', s, 'since', now)
end
local function open()
  to('open')
  redis.call('HSET', KEYS[1], 'opened_at', now, 'trials', 0, 'trial_ok', 0)
  redis.call('DEL', KEYS[2])
end
if op == 'acquire' then
  if state == 'open' then
    local until_ms = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or now) + open_ms
    if now < until_ms then
      redis.call('HINCRBY', KEYS[3], 'rejected', 1)
      return {0, state, until_ms - now, changed, 0}
    end
    to('half_open')
    redis.call('HSET', KEYS[1], 'trials', 0, 'trial_ok', 0, 'half_open_at', now)
  end
  if state == 'half_open' then
    local trials = tonumber(redis.call('HGET', KEYS[1], 'trials') or '0')
    local since = tonumber(redis.call('HGET', KEYS[1], 'half_open_at') or now)
    if trials >= trials_max and now >= since + open_ms then
      redis.call('HSET', KEYS[1], 'trials', 0, 'trial_ok', 0, 'half_open_at', now)
      trials = 0
    end
    if trials < trials_max then
      redis.call('HINCRBY', KEYS[1], 'trials', 1)
      return {1, state, 0, changed, 1}
    end
    redis.call('HINCRBY', KEYS[3], 'rejected', 1)
    return {0, state, math.ceil(open_ms / 6), changed, 0}
  end
  return {1, state, 0, changed, 0}
end
-- op == 'record': ARGV[8] = 'ok' | 'fail', ARGV[9] = '1' for a trial call
local ok = ARGV[8] == 'ok'
redis.call('HINCRBY', KEYS[3], ok and 'success' or 'failure', 1)
if state == 'half_open' and ARGV[9] == '1' then
  if not ok then
    open()
  elseif redis.call('HINCRBY', KEYS[1], 'trial_ok', 1) >= trials_max then
    to('closed')
    redis.call('DEL', KEYS[2])
  end
elseif state == 'closed' then
  redis.call('LPUSH', KEYS[2], ok and '0' or '1')
  redis.call('LTRIM', KEYS[2], 0, window - 1)
  local items = redis.call('LRANGE', KEYS[2], 0, -1)
  local failures = 0
  for _, v in ipairs(items) do if v == '1' then failures = failures + 1 end end
  if #items >= min_calls and failures / #items > rate then open() end
end
-- open, or a non-trial call that began before the breaker opened: counted, no state change
return {1, state, 0, changed, 0}
"""


def breaker_keys(provider: str) -> list[str]:
    base = f"grader:breaker:{provider}"
    return [base, f"{base}:window", f"{base}:calls", REGISTRY_KEY]


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    window: int = 20
    min_calls: int = 10
    failure_rate: float = 0.5
    open_s: float = 30.0
    half_open_calls: int = 3


@dataclass(frozen=True, slots=True)
class Permit:
    allowed: bool
    state: str
    retry_after_s: float
    trial: bool


class RedisBreaker:
    """One provider's breaker. ``redis`` is a ``redis.asyncio.Redis`` (arq's ``ctx['redis']``)."""

    def __init__(self, provider: str, config: BreakerConfig) -> None:
        self.provider = provider
        self.config = config
        self.keys = breaker_keys(provider)

    def _args(self, op: str, outcome: str = "", trial: bool = False) -> list[Any]:
        c = self.config
        return [
            op,
            self.provider,
            c.window,
            c.min_calls,
            repr(c.failure_rate),
            int(c.open_s * 1000),
            c.half_open_calls,
            outcome,
            "1" if trial else "0",
        ]

    async def _run(self, redis: Any, args: list[Any]) -> list[Any]:
        out: list[Any] = await redis.eval(SCRIPT, len(self.keys), *self.keys, *args)
        state = out[1].decode() if isinstance(out[1], bytes) else str(out[1])
        changed = out[3].decode() if isinstance(out[3], bytes) else str(out[3])
        if changed:
            log.warning("circuit breaker %s: %s", self.provider, changed.replace(">", " -> "))
        return [int(out[0]), state, int(out[2]), changed, int(out[4])]

    async def acquire(self, redis: Any) -> Permit:
        allowed, state, wait_ms, _, trial = await self._run(redis, self._args("acquire"))
        return Permit(bool(allowed), state, wait_ms / 1000, bool(trial))

    async def record(self, redis: Any, ok: bool, permit: Permit) -> str:
        """Records one call's outcome; returns the state afterwards."""
        out = await self._run(redis, self._args("record", "ok" if ok else "fail", permit.trial))
        return str(out[1])
