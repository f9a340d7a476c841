"""The OpenAI-compatible adapters against the fake provider (a real HTTP server), and the pure parts:
answer validation, error classes, Retry-After, backoff bounds."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fake_provider import FakeProvider

from grader.jobs import breaker_defer, retry_delay
from grader.providers.errors import ProviderRejected, ProviderUnavailable, retry_after_seconds
from grader.providers.openai_grader import OpenAIGrader, find_quote, parse_answer
from grader.providers.openai_transcriber import OpenAITranscriber
from grader.providers.rubric import RUBRIC_VERSION
from grader.scoring import ScoringError, TaskSpec

TASK = TaskSpec(skill="writing", part="writing_task_2", prompt="Is working from home good?", min_words=250)
ANSWER = "Working from home saves time.\nMany   people enjoy it, but some feel lonely."


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    server = FakeProvider()
    try:
        yield server
    finally:
        server.close()


def grader(fake: FakeProvider, timeout: float = 5.0) -> OpenAIGrader:
    return OpenAIGrader(fake.url, "test-key", "fake-model", timeout)


def answer_json(**change: object) -> str:
    items = [
        {"criterion": c, "score": 6.5, "feedback": "ok", "quotes": ["saves time"]}
        for c in ("task_fulfilment", "organisation", "vocabulary", "grammar")
    ]
    body: dict[str, object] = {"criteria": items, "feedback": "fine", "off_topic": False}
    body.update(change)
    return json.dumps(body)


def test_a_valid_answer_becomes_an_assessment_with_quotes_as_annotations() -> None:
    a = parse_answer(answer_json(), TASK, ANSWER, "m")
    assert a.overall == 6.5 and a.provider == "openai" and a.rubric_version == RUBRIC_VERSION
    assert [c.criterion for c in a.criteria] == ["task_fulfilment", "organisation", "vocabulary", "grammar"]
    span = a.criteria[0].annotations[0]
    assert ANSWER[span.start : span.end] == "saves time"


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        answer_json(criteria=[]),
        answer_json(off_topic="no"),
        json.dumps({"criteria": [], "feedback": "x"}),
        answer_json(
            criteria=[
                {"criterion": c, "score": 11, "feedback": "ok", "quotes": ["saves time"]}
                for c in ("task_fulfilment", "organisation", "vocabulary", "grammar")
            ]
        ),
        answer_json(
            criteria=[
                {"criterion": c, "score": 6.3, "feedback": "ok", "quotes": ["saves time"]}
                for c in ("task_fulfilment", "organisation", "vocabulary", "grammar")
            ]
        ),
        answer_json(
            criteria=[
                {"criterion": c, "score": 6.0, "feedback": "ok", "quotes": ["saves time"]}
                for c in ("task_fulfilment", "organisation", "vocabulary", "vocabulary")
            ]
        ),
        answer_json(
            criteria=[
                {"criterion": c, "score": 6.0, "feedback": "ok", "quotes": ["words never written"]}
                for c in ("task_fulfilment", "organisation", "vocabulary", "grammar")
            ]
        ),
    ],
    ids=[
        "not-json",
        "no-criteria",
        "bad-type",
        "missing-field",
        "out-of-range",
        "off-grid",
        "duplicate",
        "bad-quote",
    ],
)
def test_an_unusable_answer_is_invalid_grade_never_a_zero(content: str) -> None:
    with pytest.raises(ScoringError) as err:
        parse_answer(content, TASK, ANSWER, "m")
    assert err.value.code == "invalid_grade"


def test_quotes_are_found_across_reflowed_white_space_and_case() -> None:
    assert find_quote(ANSWER, "many people ENJOY it") == (ANSWER.index("Many"), ANSWER.index(", but"))
    assert find_quote(ANSWER, "nowhere") is None


def test_the_request_is_temperature_0_with_the_rubric_and_a_json_schema(fake: FakeProvider) -> None:
    body = grader(fake).request_body(TASK, ANSWER)
    assert body["temperature"] == 0 and body["model"] == "fake-model"
    assert (
        RUBRIC_VERSION in body["messages"][0]["content"]
        and "task_fulfilment" in body["messages"][0]["content"]
    )
    assert body["response_format"]["type"] == "json_schema"


def test_the_grader_grades_through_the_fake_server(fake: FakeProvider) -> None:
    a = grader(fake).score(TASK, ANSWER)
    assert a.overall == 7.0 and len(fake.calls_to("/chat/completions")) == 1


@pytest.mark.parametrize(
    ("behaviour", "error", "retry_after"),
    [
        ("429:2", ProviderUnavailable, 2.0),
        ("500", ProviderUnavailable, None),
        ("401", ProviderRejected, None),
    ],
)
def test_http_errors_are_classified(
    fake: FakeProvider, behaviour: str, error: type[Exception], retry_after: float | None
) -> None:
    fake.configure(script=[behaviour])
    with pytest.raises(error) as err:
        grader(fake).score(TASK, ANSWER)
    if isinstance(err.value, ProviderUnavailable):
        assert err.value.retry_after_s == retry_after


def test_a_slow_provider_is_a_transient_timeout(fake: FakeProvider) -> None:
    fake.configure(script=["slow:2"])
    with pytest.raises(ProviderUnavailable, match="timed out"):
        grader(fake, timeout=0.3).score(TASK, ANSWER)


@pytest.mark.parametrize("behaviour", ["malformed", "out_of_range", "off_grid", "missing"])
def test_bad_answers_from_the_server_are_invalid_grade(fake: FakeProvider, behaviour: str) -> None:
    fake.configure(script=[behaviour])
    with pytest.raises(ScoringError) as err:
        grader(fake).score(TASK, ANSWER)
    assert err.value.code == "invalid_grade"


def test_the_transcriber_keeps_word_and_segment_timestamps(fake: FakeProvider) -> None:
    t = OpenAITranscriber(fake.url, "k", "whisper-1", 5).transcribe(b"RIFF....", "a.wav", "audio/wav")
    assert t.text.startswith("I think") and t.provider == "openai-stt"
    assert len(t.words) == 7 and t.words[1].text == "think" and t.words[1].start == pytest.approx(0.3)
    assert t.segments[0].end == 2.5
    fake.configure(script=["429:1"])
    with pytest.raises(ProviderUnavailable):
        OpenAITranscriber(fake.url, "k", "whisper-1", 5).transcribe(b"x", "a.wav", "audio/wav")


def test_retry_after_in_seconds_milliseconds_and_http_dates() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({"Retry-After": "999999"}) == 3600.0


def test_retry_delay_is_full_jitter_capped_and_a_longer_retry_after_wins() -> None:
    lo = lambda a, b: a  # noqa: E731
    hi = lambda a, b: b  # noqa: E731
    assert retry_delay(1, 2.0, 300.0, None, hi) == 2.0
    assert retry_delay(3, 2.0, 300.0, None, hi) == 8.0
    assert retry_delay(20, 2.0, 300.0, None, hi) == 300.0
    assert retry_delay(3, 2.0, 300.0, None, lo) == 0.0
    assert retry_delay(1, 2.0, 300.0, 30.0, hi) == 30.0  # the provider's longer wish
    assert retry_delay(3, 2.0, 300.0, 1.0, hi) == 8.0  # ours is longer
    assert 10.0 <= breaker_defer(10.0) <= 12.0
