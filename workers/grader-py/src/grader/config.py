"""Worker settings read from the environment and validated once, at start-up.

Every problem names the variable, so a misconfigured deployment fails with a message such as
``WORKER_MAX_JOBS must be an integer between 1 and 1000, got 'lots'``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from grader.contracts.constants import DEFAULT_QUEUE_NAME, SPOT_CHECK_SHARE

PROVIDERS = ("offline", "openai")
"""Grading providers (``GRADER_PROVIDER``): the offline scorer, or OpenAI-compatible chat completions."""
STT_PROVIDERS = ("offline", "openai")
"""Speech-to-text providers (``STT_PROVIDER``): the offline recogniser, or ``/v1/audio/transcriptions``."""
FALLBACKS = ("none", "offline")
"""``GRADER_FALLBACK``: what grades an answer when the paid provider stayed unavailable through every try."""


class ConfigError(ValueError):
    """A missing or invalid environment variable; the message names it."""


# Backoff defaults for transient provider errors (full jitter, capped); GRADER_RETRY_* override them.
DEFAULT_RETRY_BASE_SECONDS = 2.0
DEFAULT_RETRY_MAX_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    redis_url: str = "redis://127.0.0.1:6379"
    queue_name: str = DEFAULT_QUEUE_NAME
    max_jobs: int = 10
    # arq sleeps poll_delay between polls; each poll reads up to max(5 x max_jobs, 100) due jobs and
    # starts them as the max_jobs slots free up. So the delay is latency, not a throughput cap: a job
    # waits up to poll_delay before it is seen (docs/benchmarks.md: queue wait p50 ≈ 120 ms at 0.2 s,
    # ≈ 30 ms at 0.05 s, at 50 essays/s).
    poll_delay_s: float = 0.05
    job_timeout_s: int = 120
    grader_provider: str = "offline"
    retry_base_s: float = DEFAULT_RETRY_BASE_SECONDS
    retry_max_s: float = DEFAULT_RETRY_MAX_SECONDS
    stt_provider: str = "offline"
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: str = ""
    grader_model: str = "gpt-4o-mini"
    stt_model: str = "whisper-1"
    provider_timeout_s: float = 60.0
    fallback: str = "none"
    breaker_window: int = 20
    """The breaker judges the last N provider calls ..."""
    breaker_min_calls: int = 10
    """... once at least this many are in the window ..."""
    breaker_failure_rate: float = 0.5
    """... and opens when the share of failures is above this."""
    breaker_open_s: float = 30.0
    breaker_half_open_calls: int = 3
    breaker_max_deferrals: int = 40
    """How often an open breaker may defer one job before it fails as ``provider_unavailable``."""
    pg_pool_min: int = 1
    health_check_interval_s: int = 30
    redis_outage_s: int = 300
    shutdown_grace_s: int = 25
    """On SIGTERM: how long running jobs may finish before the rest are handed back to the queue."""
    spot_check_share: float = SPOT_CHECK_SHARE
    """Share of auto-accepted results sampled for a spot check (GRADING_POLICY.spotCheckShare)."""
    score_delay_ms: int = 0
    """Chaos drills only: every score first blocks its thread this long (``GRADER_SCORE_DELAY_MS``)."""
    metrics_port: int = 0
    """``WORKER_METRICS_PORT``: serve Prometheus ``/metrics`` on this port (0: not served)."""
    metrics_host: str = "0.0.0.0"
    """``WORKER_METRICS_HOST``: the address the metrics port binds."""
    log_level: str = "INFO"
    """``LOG_LEVEL``: debug, info, warning or error."""


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = lo - 1
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be an integer between {lo} and {hi}, got {raw!r}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = lo - 1
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be a number between {lo} and {hi}, got {raw!r}")
    return value


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...], default: str | None) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        if default is None:
            raise ConfigError(f"{name} is required (e.g. {schemes[0]}://...)")
        return default
    parts = urlsplit(raw)
    if parts.scheme not in schemes or (not parts.hostname and not parts.path):
        raise ConfigError(f"{name} must be a URL with scheme {' or '.join(schemes)}, got {raw!r}")
    return raw


LOG_LEVELS = ("debug", "info", "warning", "error")


def _log_level(env: Mapping[str, str]) -> str:
    raw = env.get("LOG_LEVEL", "").strip().lower() or "info"
    raw = "warning" if raw == "warn" else raw  # the API (pino) spells it warn
    if raw not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return raw.upper()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Reads and validates the settings; raises :class:`ConfigError` naming the bad variable."""
    e = os.environ if env is None else env
    provider = e.get("GRADER_PROVIDER", "").strip() or "offline"
    if provider not in PROVIDERS:
        raise ConfigError(f"GRADER_PROVIDER must be one of {', '.join(PROVIDERS)}, got {provider!r}")
    queue = e.get("ARQ_QUEUE_NAME", "").strip() or DEFAULT_QUEUE_NAME
    retry_base = _float(e, "GRADER_RETRY_BASE_SECONDS", DEFAULT_RETRY_BASE_SECONDS, 0.0, 3600.0)
    retry_max = _float(e, "GRADER_RETRY_MAX_SECONDS", DEFAULT_RETRY_MAX_SECONDS, 0.0, 86_400.0)
    if retry_max < retry_base:
        raise ConfigError("GRADER_RETRY_MAX_SECONDS must not be below GRADER_RETRY_BASE_SECONDS")
    stt = e.get("STT_PROVIDER", "").strip() or "offline"
    if stt not in STT_PROVIDERS:
        raise ConfigError(f"STT_PROVIDER must be one of {', '.join(STT_PROVIDERS)}, got {stt!r}")
    fallback = e.get("GRADER_FALLBACK", "").strip() or "none"
    if fallback not in FALLBACKS:
        raise ConfigError(f"GRADER_FALLBACK must be one of {', '.join(FALLBACKS)}, got {fallback!r}")
    api_key = e.get("OPENAI_API_KEY", "").strip()
    if "openai" in (provider, stt) and not api_key:
        raise ConfigError("OPENAI_API_KEY is required when GRADER_PROVIDER or STT_PROVIDER is openai")
    window = _int(e, "GRADER_BREAKER_WINDOW", 20, 1, 1000)
    min_calls = _int(e, "GRADER_BREAKER_MIN_CALLS", 10, 1, 1000)
    if min_calls > window:
        raise ConfigError("GRADER_BREAKER_MIN_CALLS must not be above GRADER_BREAKER_WINDOW")
    return Settings(
        database_url=_url(e, "DATABASE_URL", ("postgres", "postgresql"), None),
        redis_url=_url(e, "REDIS_URL", ("redis", "rediss", "unix"), "redis://127.0.0.1:6379"),
        queue_name=queue,
        max_jobs=_int(e, "WORKER_MAX_JOBS", 10, 1, 1000),
        poll_delay_s=_float(e, "WORKER_POLL_DELAY_SECONDS", 0.05, 0.005, 5.0),
        job_timeout_s=_int(e, "WORKER_JOB_TIMEOUT_SECONDS", 120, 1, 3600),
        grader_provider=provider,
        retry_base_s=retry_base,
        retry_max_s=retry_max,
        pg_pool_min=_int(e, "WORKER_PG_POOL_MIN", 1, 0, 100),
        health_check_interval_s=_int(e, "WORKER_HEALTH_CHECK_INTERVAL_SECONDS", 30, 1, 3600),
        redis_outage_s=_int(e, "WORKER_REDIS_OUTAGE_SECONDS", 300, 1, 86_400),
        shutdown_grace_s=_int(e, "WORKER_SHUTDOWN_GRACE_SECONDS", 25, 0, 3600),
        # An override for tests and drills; production keeps the policy's share.
        spot_check_share=_float(e, "GRADER_SPOT_CHECK_SHARE", SPOT_CHECK_SHARE, 0.0, 1.0),
        # Chaos drills: a deliberately slow scorer shows other jobs go on while one is scored.
        score_delay_ms=_int(e, "GRADER_SCORE_DELAY_MS", 0, 0, 600_000),
        metrics_port=_int(e, "WORKER_METRICS_PORT", 0, 0, 65_535),
        metrics_host=e.get("WORKER_METRICS_HOST", "").strip() or "0.0.0.0",
        log_level=_log_level(e),
        stt_provider=stt,
        openai_base_url=_url(e, "OPENAI_BASE_URL", ("https", "http"), "https://api.openai.com/v1").rstrip(
            "/"
        ),
        openai_api_key=api_key,
        grader_model=e.get("GRADER_MODEL", "").strip() or "gpt-4o-mini",
        stt_model=e.get("STT_MODEL", "").strip() or "whisper-1",
        provider_timeout_s=_float(e, "GRADER_PROVIDER_TIMEOUT_SECONDS", 60.0, 0.1, 600.0),
        fallback=fallback,
        breaker_window=window,
        breaker_min_calls=min_calls,
        breaker_failure_rate=_float(e, "GRADER_BREAKER_FAILURE_RATE", 0.5, 0.0, 1.0),
        breaker_open_s=_float(e, "GRADER_BREAKER_OPEN_SECONDS", 30.0, 0.1, 3600.0),
        breaker_half_open_calls=_int(e, "GRADER_BREAKER_HALF_OPEN_CALLS", 3, 1, 100),
        breaker_max_deferrals=_int(e, "GRADER_BREAKER_MAX_DEFERRALS", 40, 0, 10_000),
    )
