"""Issue 8's "done when", against REAL worker processes (``python -m grader``), a private PostgreSQL
database and redis-server, and the fake OpenAI-compatible provider (a real HTTP server, scripted per
request). Retry delays are kept short through configuration (GRADER_RETRY_BASE_SECONDS=0.2,
GRADER_PROVIDER_TIMEOUT_SECONDS=0.5), and the tests check the delays the fake server saw against the
bounds: Retry-After honoured, full jitter inside [0, base * 2^(try-1)] plus the worker's poll slack.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis
import redis.asyncio as aioredis
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from conftest import GRADER_DIR, create_submission, free_port, start_redis, stop_process, wait_for_status
from fake_provider import FakeProvider
from samples import GOOD_ESSAY

from grader.breaker import BreakerConfig, RedisBreaker
from grader.contracts.constants import GRADE_SUBMISSION_FUNCTION
from grader.providers.rubric import RUBRIC_VERSION
from grader.serialization import job_deserializer, job_serializer

RETRY_BASE_S = 0.2
SLACK_S = 1.0
"""arq polls every 0.2 s and a try takes some time: the most a measured gap may exceed its defer."""
FINAL = {"completed", "failed", "review_pending"}


@pytest.fixture
def redis_url() -> Iterator[str]:  # each test its own Redis: breaker state never leaks between tests
    port = free_port()
    server = start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop_process(server)


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    server = FakeProvider()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
async def arq_pool(redis_url: str) -> AsyncIterator[ArqRedis]:
    p = await create_pool(
        RedisSettings.from_dsn(redis_url), job_serializer=job_serializer, job_deserializer=job_deserializer
    )
    try:
        yield p
    finally:
        await p.aclose()


class Workers:
    def __init__(self, database_url: str, redis_url: str, fake: FakeProvider) -> None:
        self.env = {
            **os.environ,
            "UV_PYTHON_DOWNLOADS": "never",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "GRADER_SPOT_CHECK_SHARE": "0",
            "GRADER_PROVIDER": "openai",
            "OPENAI_BASE_URL": fake.url,
            "OPENAI_API_KEY": "test-key",
            "GRADER_MODEL": "fake-model",
            "GRADER_RETRY_BASE_SECONDS": str(RETRY_BASE_S),
            "GRADER_PROVIDER_TIMEOUT_SECONDS": "0.5",
        }
        self.env.pop("ARQ_QUEUE_NAME", None)
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, **extra: str) -> None:
        self.procs.append(
            subprocess.Popen(
                ["uv", "run", "--frozen", "python", "-m", "grader"],
                cwd=GRADER_DIR,
                env={**self.env, **extra},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(20)


@pytest.fixture
def workers(database_url: str, redis_url: str, fake: FakeProvider) -> Iterator[Workers]:
    w = Workers(database_url, redis_url, fake)
    try:
        yield w
    finally:
        w.stop()


async def enqueue(arq_pool: ArqRedis, sid: uuid.UUID) -> None:
    await arq_pool.enqueue_job(GRADE_SUBMISSION_FUNCTION, submission_id=str(sid), _job_id=str(sid))


async def test_429_then_500_then_ok_completes_with_one_grade_and_honest_delays(
    pool: asyncpg.Pool, arq_pool: ArqRedis, workers: Workers, fake: FakeProvider
) -> None:
    fake.configure(script=["429:1", "500", "ok"])
    workers.start()
    sid = await create_submission(pool, answer_text=GOOD_ESSAY + " (429 test)")
    await enqueue(arq_pool, sid)
    assert await wait_for_status(pool, sid, FINAL) == "completed"

    calls = fake.calls_to("/chat/completions")
    assert [c.behaviour for c in calls] == ["429:1", "500", "ok"]
    first_gap, second_gap = calls[1].at - calls[0].at, calls[2].at - calls[1].at
    # try 1: jitter in [0, 0.2] but Retry-After 1 s is longer and wins
    assert 1.0 <= first_gap <= 1.0 + SLACK_S, first_gap
    # try 2: full jitter in [0, 0.2 * 2] (no Retry-After on a 500)
    assert 0.0 <= second_gap <= 2 * RETRY_BASE_S + SLACK_S, second_gap
    grades = await pool.fetch("select * from grades where submission_id = $1", sid)
    assert len(grades) == 1
    g = grades[0]
    assert (g["provider"], g["model"], g["rubric_version"], g["origin"]) == (
        "openai",
        "fake-model",
        RUBRIC_VERSION,
        "provider",
    )
    assert await pool.fetchval("select count(*) from dead_letters where submission_id = $1", sid) == 0


async def test_an_identical_answer_is_not_sent_twice_the_grade_is_reused(
    pool: asyncpg.Pool, arq_pool: ArqRedis, workers: Workers, fake: FakeProvider
) -> None:
    workers.start()
    answer = GOOD_ESSAY + " (reuse test)"
    first = await create_submission(pool, answer_text=answer)
    await enqueue(arq_pool, first)
    assert await wait_for_status(pool, first, FINAL) == "completed"
    second = await create_submission(pool, answer_text=answer)
    await enqueue(arq_pool, second)
    assert await wait_for_status(pool, second, FINAL) == "completed"
    assert len([c for c in fake.calls_to("/chat/completions") if c.answer == answer]) == 1
    rows = await pool.fetch(
        "select submission_id, origin, overall from grades where submission_id = any($1::uuid[])",
        [first, second],
    )
    origins = {r["submission_id"]: (r["origin"], r["overall"]) for r in rows}
    assert origins[first][0] == "provider" and origins[second] == ("reused", origins[first][1])


async def test_a_reused_grade_carries_the_originals_off_topic_verdict_so_hybrid_reviews_it_too(
    pool: asyncpg.Pool, arq_pool: ArqRedis, workers: Workers, fake: FakeProvider
) -> None:
    fake.configure(default="off_topic")
    workers.start()
    answer = GOOD_ESSAY + " (off-topic reuse)"
    first = await create_submission(pool, answer_text=answer, mode="hybrid")
    await enqueue(arq_pool, first)
    assert await wait_for_status(pool, first, FINAL) == "review_pending"
    second = await create_submission(pool, answer_text=answer, mode="hybrid")
    await enqueue(arq_pool, second)
    assert await wait_for_status(pool, second, FINAL) == "review_pending"
    assert len(fake.calls_to("/chat/completions")) == 1  # the copy cost nothing
    rows = await pool.fetch(
        """select g.submission_id, g.origin, g.off_topic, g.confidence, r.reason, s.review_priority::text
             from grades g join reviews r using (submission_id) join submissions s on s.id = g.submission_id
            where g.submission_id = any($1::uuid[])""",
        [first, second],
    )
    by_id = {r["submission_id"]: r for r in rows}
    original, copy = by_id[first], by_id[second]
    assert (original["origin"], copy["origin"]) == ("provider", "reused")
    assert original["off_topic"] and copy["off_topic"]
    assert "off_topic" in original["reason"].split(",")
    # routed exactly like the original: same reasons, same priority, same confidence
    assert (copy["reason"], copy["review_priority"], copy["confidence"]) == (
        original["reason"],
        original["review_priority"],
        original["confidence"],
    )


async def test_a_provider_that_always_times_out_gets_exactly_4_tries_then_fails_or_goes_to_review(
    pool: asyncpg.Pool, arq_pool: ArqRedis, workers: Workers, fake: FakeProvider
) -> None:
    fake.configure(default="slow:3")
    workers.start()
    auto = await create_submission(pool, answer_text=GOOD_ESSAY + " (timeout auto)", mode="auto")
    hybrid = await create_submission(pool, answer_text=GOOD_ESSAY + " (timeout hybrid)", mode="hybrid")
    await enqueue(arq_pool, auto)
    await enqueue(arq_pool, hybrid)
    assert await wait_for_status(pool, auto, FINAL) == "failed"
    assert await wait_for_status(pool, hybrid, FINAL) == "review_pending"

    by_answer: dict[str, int] = {}
    for c in fake.calls_to("/chat/completions"):
        by_answer[c.answer] = by_answer.get(c.answer, 0) + 1
    assert sorted(by_answer.values()) == [4, 4]

    row = await pool.fetchrow(
        "select status::text, last_error_code, review_priority::text from submissions where id = $1", hybrid
    )
    assert row is not None and (row["last_error_code"], row["review_priority"]) == (
        "provider_unavailable",
        "high",
    )
    assert await pool.fetchval("select reason from reviews where submission_id = $1", hybrid) == "ai_failed"
    assert (
        await pool.fetchval("select last_error_code from submissions where id = $1", auto)
        == "provider_unavailable"
    )
    for sid in (auto, hybrid):
        dl = await pool.fetchrow("select * from dead_letters where submission_id = $1", sid)
        assert dl is not None
        assert (dl["provider"], dl["reason"], dl["attempts"]) == ("openai", "provider_unavailable", 4)
        assert "timed out" in dl["last_error"]
        assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 0


@pytest.mark.parametrize("behaviour", ["malformed", "out_of_range", "off_grid", "missing"])
async def test_a_malformed_or_out_of_range_answer_never_stores_a_grade(
    pool: asyncpg.Pool, arq_pool: ArqRedis, workers: Workers, fake: FakeProvider, behaviour: str
) -> None:
    fake.configure(default=behaviour)
    workers.start()
    sid = await create_submission(pool, answer_text=GOOD_ESSAY + f" ({behaviour})")
    await enqueue(arq_pool, sid)
    assert await wait_for_status(pool, sid, FINAL) == "failed"
    assert (
        await pool.fetchval("select last_error_code from submissions where id = $1", sid) == "invalid_grade"
    )
    assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 0
    assert len(fake.calls_to("/chat/completions")) == 1  # permanent: no retry


async def test_the_offline_fallback_grades_when_the_provider_stays_down(
    pool: asyncpg.Pool, arq_pool: ArqRedis, workers: Workers, fake: FakeProvider
) -> None:
    fake.configure(default="500")
    workers.start(GRADER_FALLBACK="offline")
    sid = await create_submission(pool, answer_text=GOOD_ESSAY + " (fallback)", mode="hybrid")
    await enqueue(arq_pool, sid)
    assert await wait_for_status(pool, sid, FINAL) == "review_pending"  # low confidence: a human looks
    g = await pool.fetchrow("select provider, origin, confidence from grades where submission_id = $1", sid)
    assert (
        g is not None
        and (g["provider"], g["origin"]) == ("offline", "fallback")
        and g["confidence"] <= 0.3 + 1e-6
    )
    assert len(fake.calls_to("/chat/completions")) == 4


async def test_two_workers_share_one_breaker_that_opens_defers_and_closes(
    pool: asyncpg.Pool, arq_pool: ArqRedis, workers: Workers, fake: FakeProvider, redis_url: str
) -> None:
    open_s = 3.0
    fake.configure(pattern=["500", "500", "500", "ok", "ok"])  # 60% of calls fail
    breaker_env = {
        "GRADER_BREAKER_OPEN_SECONDS": str(open_s),
        "GRADER_BREAKER_MIN_CALLS": "10",
        "GRADER_BREAKER_WINDOW": "20",
        "GRADER_BREAKER_HALF_OPEN_CALLS": "3",
        "WORKER_MAX_JOBS": "4",
    }
    workers.start(**breaker_env)
    workers.start(**breaker_env)
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    sids = [await create_submission(pool, answer_text=GOOD_ESSAY + f" (breaker {i})") for i in range(14)]
    for sid in sids:
        await enqueue(arq_pool, sid)

    deadline = time.monotonic() + 60
    while r.hget("grader:breaker:openai", "state") != "open":
        assert time.monotonic() < deadline, "the breaker never opened"
        await asyncio.sleep(0.02)  # polling Redis for the condition
    opened_at_ms = int(str(r.hget("grader:breaker:openai", "opened_at") or 0))
    opened_mono = time.monotonic() - (time.time() * 1000 - opened_at_ms) / 1000
    calls_when_opened = len(fake.calls_to("/chat/completions"))
    assert calls_when_opened >= 10  # not before the minimum number of calls
    fake.configure(pattern=[], default="ok")  # the provider recovers meanwhile

    for sid in sids:
        assert await wait_for_status(pool, sid, FINAL) == "completed"  # deferred, never failed
    calls = fake.calls_to("/chat/completions")
    # While open, nobody called it (a call already granted may land within a few ms of the opening).
    during_open = [c for c in calls if opened_mono + 0.2 < c.at < opened_mono + open_s - 0.1]
    assert during_open == []
    after = [c for c in calls if c.at >= opened_mono + open_s - 0.1]
    assert after, "no trial call after the cooldown"
    counters: dict[str, str] = r.hgetall("grader:breaker:openai:calls")  # type: ignore[assignment]
    assert (
        int(counters["to_open"]) >= 1
        and int(counters["to_half_open"]) >= 1
        and int(counters["to_closed"]) >= 1
    )
    assert int(counters["rejected"]) >= 1
    assert r.hget("grader:breaker:openai", "state") == "closed"
    assert r.sismember("grader:breakers", "openai")
    assert (
        await pool.fetchval("select count(*) from grades where submission_id = any($1::uuid[])", sids) == 14
    )
    r.close()


# --- speech-to-text (STT_PROVIDER=openai) through its own breaker, "openai-stt" ---------------------
FAKE_TRANSCRIPT = "I think working from home is good"
STT_BREAKER = "grader:breaker:openai-stt"


async def recording(pool: asyncpg.Pool, audio_dir: Path, mode: str) -> uuid.UUID:
    """A spoken answer whose bytes sit in the local audio store (the fake transcriber ignores them)."""
    key = f"audio/test/{uuid.uuid4()}.wav"
    (audio_dir / key).parent.mkdir(parents=True, exist_ok=True)
    (audio_dir / key).write_bytes(b"RIFF\x00\x00\x00\x00WAVE, never decoded by the fake transcriber")
    sid = await create_submission(pool, slug="s2-birthday-gift", answer_text=None, audio_ref=key, mode=mode)
    await pool.execute("update submissions set audio_media_type = 'audio/wav' where id = $1", sid)
    return sid


def stt_env(audio_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "GRADER_PROVIDER": "offline",  # only the transcriber is a paid provider here
        "STT_PROVIDER": "openai",
        "AUDIO_STORAGE": "local",
        "AUDIO_DIR": str(audio_dir),
        **extra,
    }


def breaker_calls(redis_url: str) -> dict[str, int]:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        raw: dict[str, str] = r.hgetall(STT_BREAKER + ":calls")  # type: ignore[assignment]
        return {k: int(v) for k, v in raw.items()}
    finally:
        r.close()


async def test_stt_429_then_ok_completes_with_the_providers_transcript(
    pool: asyncpg.Pool,
    arq_pool: ArqRedis,
    workers: Workers,
    fake: FakeProvider,
    tmp_path: Path,
    redis_url: str,
) -> None:
    fake.configure(script=["429:1", "ok"])
    workers.start(**stt_env(tmp_path))
    sid = await recording(pool, tmp_path, "auto")
    await enqueue(arq_pool, sid)
    assert await wait_for_status(pool, sid, FINAL) == "completed"
    calls = fake.calls_to("/audio/transcriptions")
    assert [c.behaviour for c in calls] == ["429:1", "ok"]
    assert 1.0 <= calls[1].at - calls[0].at <= 1.0 + SLACK_S  # Retry-After honoured
    row = await pool.fetchrow(
        "select s.transcript, g.transcript as graded, s.attempts from submissions s "
        "join grades g on g.submission_id = s.id where s.id = $1",
        sid,
    )
    assert row is not None and row["transcript"] == row["graded"] == FAKE_TRANSCRIPT
    assert row["attempts"] == 2
    # Both calls went through the transcriber's breaker: one failure, one success.
    counters = breaker_calls(redis_url)
    assert (counters.get("failure"), counters.get("success")) == (1, 1)
    assert await pool.fetchval("select count(*) from dead_letters where submission_id = $1", sid) == 0


async def test_stt_always_500_ends_failed_with_a_dead_letter_or_in_review_high(
    pool: asyncpg.Pool, arq_pool: ArqRedis, workers: Workers, fake: FakeProvider, tmp_path: Path
) -> None:
    fake.configure(default="500")
    workers.start(**stt_env(tmp_path))
    auto = await recording(pool, tmp_path, "auto")
    hybrid = await recording(pool, tmp_path, "hybrid")
    await enqueue(arq_pool, auto)
    await enqueue(arq_pool, hybrid)
    assert await wait_for_status(pool, auto, FINAL) == "failed"
    assert await wait_for_status(pool, hybrid, FINAL) == "review_pending"
    assert len(fake.calls_to("/audio/transcriptions")) == 8  # 4 tries each
    for sid in (auto, hybrid):
        row = await pool.fetchrow(
            "select last_error_code, transcript from submissions where id = $1",
            sid,
        )
        assert row is not None
        assert (row["last_error_code"], row["transcript"]) == ("provider_unavailable", None)
        dl = await pool.fetchrow("select * from dead_letters where submission_id = $1", sid)
        assert dl is not None
        assert (dl["provider"], dl["reason"], dl["attempts"]) == ("openai-stt", "provider_unavailable", 4)
        assert await pool.fetchval("select count(*) from grades where submission_id = $1", sid) == 0
    hybrid_row = await pool.fetchrow(
        "select s.review_priority::text as priority, r.reason from submissions s "
        "join reviews r on r.submission_id = s.id where s.id = $1",
        hybrid,
    )
    assert hybrid_row is not None and (hybrid_row["priority"], hybrid_row["reason"]) == ("high", "ai_failed")


async def test_an_open_stt_breaker_defers_without_calling_the_transcriber(
    pool: asyncpg.Pool,
    arq_pool: ArqRedis,
    workers: Workers,
    fake: FakeProvider,
    tmp_path: Path,
    redis_url: str,
) -> None:
    open_s = 3.0
    config = BreakerConfig(window=20, min_calls=10, failure_rate=0.5, open_s=open_s, half_open_calls=3)
    r = aioredis.Redis.from_url(redis_url)
    try:  # ten failures recorded by "another worker": the transcriber's breaker is open
        breaker = RedisBreaker("openai-stt", config)
        for _ in range(10):
            await breaker.record(r, False, await breaker.acquire(r))
        assert (await breaker.acquire(r)).state == "open"
    finally:
        await r.aclose()
    opened = time.monotonic()
    workers.start(**stt_env(tmp_path, GRADER_BREAKER_OPEN_SECONDS=str(open_s)))
    sid = await recording(pool, tmp_path, "auto")
    await enqueue(arq_pool, sid)
    assert await wait_for_status(pool, sid, FINAL) == "completed"  # deferred, never failed
    calls = fake.calls_to("/audio/transcriptions")
    assert len(calls) == 1 and calls[0].at >= opened + open_s - 0.1  # nothing while it was open
    counters = breaker_calls(redis_url)
    # the worker asked, was refused while open, and its trial call after the cooldown succeeded
    assert counters.get("rejected", 0) >= 1 and counters.get("to_half_open", 0) >= 1
    assert counters.get("success") == 1
