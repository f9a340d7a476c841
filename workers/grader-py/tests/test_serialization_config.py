from __future__ import annotations

import asyncio
import datetime
import decimal
import uuid

import pytest
from arq.worker import JobExecutionFailed

from grader.config import ConfigError, load_settings
from grader.contracts.constants import DEFAULT_QUEUE_NAME, SPOT_CHECK_SHARE
from grader.jobs import backoff_seconds
from grader.serialization import job_deserializer, job_serializer


def test_serializer_round_trips_plain_json() -> None:
    record: dict[str, object] = {
        "t": None,
        "f": "grade_submission",
        "a": [],
        "k": {"submission_id": "x"},
        "et": 1,
    }
    data = job_serializer(record)
    assert data == b'{"t":null,"f":"grade_submission","a":[],"k":{"submission_id":"x"},"et":1}'
    assert job_deserializer(data) == record


def test_serializer_keeps_exceptions_and_odd_values() -> None:
    u = uuid.uuid4()
    when = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    out = job_deserializer(
        job_serializer(
            {
                "r": JobExecutionFailed("max 4 retries exceeded"),
                "c": asyncio.CancelledError(),
                "u": u,
                "d": decimal.Decimal("6.5"),
                "w": when,
                "day": datetime.date(2025, 1, 2),
                "s": {3, 1},
                "o": object(),
            }
        )
    )
    assert out["r"] == {"__exc__": "JobExecutionFailed", "msg": "max 4 retries exceeded"}
    assert out["c"] == {"__exc__": "CancelledError", "msg": ""}
    assert out["u"] == str(u)
    assert out["d"] == "6.5"
    assert out["w"] == "2025-01-02T03:04:05+00:00"
    assert out["day"] == "2025-01-02"
    assert out["s"] == [1, 3]
    assert out["o"].startswith("<object")


def test_deserializer_rejects_non_objects() -> None:
    with pytest.raises(ValueError):
        job_deserializer(b"[1,2]")


def test_settings_defaults_and_validation() -> None:
    s = load_settings({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x"})
    assert s.redis_url == "redis://127.0.0.1:6379"
    assert s.queue_name == DEFAULT_QUEUE_NAME
    assert s.grader_provider == "offline"
    assert s.max_jobs == 10
    with pytest.raises(ConfigError, match="DATABASE_URL is required"):
        load_settings({})
    with pytest.raises(ConfigError, match="DATABASE_URL must be a URL"):
        load_settings({"DATABASE_URL": "mysql://x/y"})
    with pytest.raises(ConfigError, match="WORKER_MAX_JOBS"):
        load_settings({"DATABASE_URL": "postgres://h/d", "WORKER_MAX_JOBS": "lots"})
    with pytest.raises(ConfigError, match="GRADER_PROVIDER"):
        load_settings({"DATABASE_URL": "postgres://h/d", "GRADER_PROVIDER": "magic"})
    with pytest.raises(ConfigError, match="REDIS_URL"):
        load_settings({"DATABASE_URL": "postgres://h/d", "REDIS_URL": "http://x"})
    custom = load_settings(
        {
            "DATABASE_URL": "postgres://h/d",
            "ARQ_QUEUE_NAME": "q",
            "WORKER_MAX_JOBS": "3",
            "REDIS_URL": "redis://r:1",
        }
    )
    assert (custom.queue_name, custom.max_jobs, custom.redis_url) == ("q", 3, "redis://r:1")


def test_spot_check_share_defaults_to_the_policy_and_is_validated() -> None:
    base = {"DATABASE_URL": "postgres://h/d"}
    assert load_settings(base).spot_check_share == SPOT_CHECK_SHARE == 0.05
    assert load_settings({**base, "GRADER_SPOT_CHECK_SHARE": "1"}).spot_check_share == 1.0
    assert load_settings({**base, "GRADER_SPOT_CHECK_SHARE": "0"}).spot_check_share == 0.0
    for bad in ("1.5", "-0.1", "nan", "inf", "often"):
        with pytest.raises(ConfigError, match="GRADER_SPOT_CHECK_SHARE"):
            load_settings({**base, "GRADER_SPOT_CHECK_SHARE": bad})


def test_backoff_is_exponential_with_full_jitter() -> None:
    top = lambda lo, hi: hi  # noqa: E731
    assert [backoff_seconds(t, 2, 60, top) for t in (1, 2, 3, 4, 10)] == [2, 4, 8, 16, 60]
    assert backoff_seconds(3, 2, 60, lambda lo, hi: lo) == 0
    for t in range(1, 6):
        assert 0 <= backoff_seconds(t, 2, 60) <= min(60, 2 * 2 ** (t - 1))


def test_poll_delay_setting() -> None:
    """WORKER_POLL_DELAY_SECONDS: 0.05 s by default (10 jobs a poll: up to 200 jobs/s a worker), bounded."""
    assert load_settings({"DATABASE_URL": "postgres://h/d"}).poll_delay_s == 0.05
    assert (
        load_settings({"DATABASE_URL": "postgres://h/d", "WORKER_POLL_DELAY_SECONDS": "0.2"}).poll_delay_s
        == 0.2
    )
    for bad in ("0", "10", "soon"):
        with pytest.raises(ConfigError, match="WORKER_POLL_DELAY_SECONDS"):
            load_settings({"DATABASE_URL": "postgres://h/d", "WORKER_POLL_DELAY_SECONDS": bad})
