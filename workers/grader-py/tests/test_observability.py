"""The worker's JSON logs carry a job's request id, and its Prometheus metrics count jobs by outcome,
time them and time provider calls; read back through prometheus_client's own text-format parser."""

from __future__ import annotations

import io
import json
import logging
import urllib.request
import uuid
from typing import Any

import pytest
from arq import Retry
from conftest import free_port
from prometheus_client.parser import text_string_to_metric_families

from grader.config import ConfigError, load_settings
from grader.observability import configure_logging, observed, outcome_of, provider_call, start_metrics_server


def sample(text: str, name: str, labels: dict[str, str]) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as res:
        body: bytes = res.read()
    return body.decode()


@pytest.fixture(scope="module")
def metrics_port() -> int:
    port = free_port()
    start_metrics_server(port, "127.0.0.1")
    return port


@pytest.fixture
def log_lines() -> Any:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    configure_logging("INFO")


async def test_a_jobs_lines_carry_its_request_id_and_other_jobs_do_not(log_lines: Any) -> None:
    inner = logging.getLogger("grader.jobs")

    async def job(ctx: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        inner.info("submission %s graded", kwargs["submission_id"])
        return {"submission_id": kwargs["submission_id"], "status": "completed"}

    sid = str(uuid.uuid4())
    await observed(job)({"job_try": 1}, submission_id=sid, request_id="req-abc-12345")
    await observed(job)({"job_try": 2}, submission_id=str(uuid.uuid4()))  # enqueued without one

    lines = log_lines()
    mine = [line for line in lines if line.get("request_id") == "req-abc-12345"]
    assert [line["msg"] for line in mine] == ["job started", f"submission {sid} graded", "job finished"]
    assert all(line["submission_id"] == sid and line["job_try"] == 1 for line in mine)
    assert mine[-1]["outcome"] == "completed" and mine[-1]["duration_s"] >= 0
    assert {"time", "level", "logger"} <= set(mine[1])
    assert mine[1]["level"] == "info" and mine[1]["logger"] == "grader.jobs"
    others = [line for line in lines if line.get("submission_id") not in (None, sid)]
    assert len(others) == 3 and all("request_id" not in line for line in others)


async def test_jobs_are_counted_by_outcome_and_timed(metrics_port: int) -> None:
    before = scrape(metrics_port)

    async def completes(ctx: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {"status": "completed"}

    async def retries(ctx: dict[str, Any], **kwargs: Any) -> None:
        raise Retry(defer=1)

    async def crashes(ctx: dict[str, Any], **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    await observed(completes)({}, submission_id="x")
    await observed(completes)({}, submission_id="y")
    with pytest.raises(Retry):
        await observed(retries)({}, submission_id="z")
    with pytest.raises(RuntimeError):
        await observed(crashes)({}, submission_id="w")
    with provider_call("fake-provider", "score"):
        pass

    after = scrape(metrics_port)
    grew = {
        outcome: sample(after, "grader_jobs_total", {"outcome": outcome})
        - sample(before, "grader_jobs_total", {"outcome": outcome})
        for outcome in ("completed", "retried", "error")
    }
    assert grew == {"completed": 2, "retried": 1, "error": 1}
    completed = {"outcome": "completed"}
    timed = sample(after, "grader_job_duration_seconds_count", completed) - sample(
        before, "grader_job_duration_seconds_count", completed
    )
    assert timed == 2
    assert sample(after, "grader_job_duration_seconds_bucket", {"outcome": "completed", "le": "+Inf"}) >= 2
    latency = {"provider": "fake-provider", "step": "score"}
    assert sample(after, "grader_grading_latency_seconds_count", latency) == 1
    assert 0 <= sample(after, "grader_grading_latency_seconds_sum", latency) < 1
    # The process collector comes with the default registry: the soak reads RSS and fds from here too.
    assert sample(after, "process_resident_memory_bytes", {}) > 1_000_000


def test_outcome_labels_and_settings() -> None:
    assert outcome_of({"status": "review_pending"}) == "review_pending"
    assert outcome_of(None) == "gone"
    env = {"DATABASE_URL": "postgres://u@h/db"}
    assert load_settings(env).metrics_port == 0
    assert load_settings({**env, "WORKER_METRICS_PORT": "9108", "LOG_LEVEL": "warn"}).log_level == "WARNING"
    with pytest.raises(ConfigError, match="WORKER_METRICS_PORT"):
        load_settings({**env, "WORKER_METRICS_PORT": "70000"})
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        load_settings({**env, "LOG_LEVEL": "loud"})
