"""The offline provider as jobs.py uses it (:class:`OfflineScorer`): aggregation, the writing path
(the fitted model) and the transcript-only speaking path (the speaking scorer without timings)."""

from __future__ import annotations

import pytest
from samples import (
    GOOD_ESSAY,
    OFF_TOPIC_ESSAY,
    REMOTE_WORK_PROMPT,
    SHORT_ESSAY,
    SPEAKING_PROMPT,
    SPEAKING_TRANSCRIPT,
)

from grader.contracts.constants import LOW_CONFIDENCE_BELOW, SPEAKING_CRITERIA, WRITING_CRITERIA
from grader.contracts.models import CriterionScore
from grader.scoring import OfflineScorer, ScoringError, TaskSpec
from grader.scoring.base import overall_score, round_half_up_to_half, to_grid
from grader.scoring.speaking.scorer import RUBRIC_VERSION as SPEAKING_RUBRIC_VERSION
from grader.scoring.writing.detectors import american_spelling, spelling
from grader.scoring.writing.features import mattr
from grader.scoring.writing.scorer import RUBRIC_VERSION
from grader.scoring.writing.text import tokens_of

TASK2 = TaskSpec("writing", "writing_task_2", REMOTE_WORK_PROMPT, 250)
SPEAKING = TaskSpec("speaking", "speaking_part_1", SPEAKING_PROMPT, 0)
SCORER = OfflineScorer()


@pytest.mark.parametrize(
    ("x", "expected"),
    [(6.25, 6.5), (6.75, 7.0), (6.24, 6.0), (6.0, 6.0), (0.0, 0.0), (10.0, 10.0), (5.75, 6.0), (3.74, 3.5)],
)
def test_round_half_up_to_half(x: float, expected: float) -> None:
    assert round_half_up_to_half(x) == expected


def test_overall_is_mean_rounded_half_up() -> None:
    assert overall_score([6.0, 6.5, 6.0, 6.5]) == 6.5  # mean 6.25
    assert overall_score([7.0, 6.5, 7.0, 6.5]) == 7.0  # mean 6.75
    assert overall_score([6.0, 6.0, 6.0, 6.5]) == 6.0  # mean 6.125
    with pytest.raises(ValueError):
        overall_score([])


def test_to_grid_clamps() -> None:
    assert to_grid(-3) == 0.0
    assert to_grid(12.2) == 10.0
    assert to_grid(7.3) == 7.5


def test_mattr() -> None:
    assert mattr([]) == 0.0
    assert mattr(["a", "a", "b", "b"]) == 0.5
    assert mattr(["w"] * 100) < 0.05


def test_spelling_uses_offline_list_and_accepts_british() -> None:
    text = "recieve government teamwork organised colour Hanoi"
    assert [text[i.start : i.end] for i in spelling(tokens_of(text), frozenset())] == ["recieve"]
    assert american_spelling("organise") == "organize"
    assert american_spelling("centre") == "center"


def _check_grid(scores: list[float]) -> None:
    for s in scores:
        assert 0.0 <= s <= 10.0
        assert (s * 2).is_integer()


def test_well_developed_essay_scores_higher_than_short_one() -> None:
    good = SCORER.score(TASK2, GOOD_ESSAY)
    short = SCORER.score(TASK2, SHORT_ESSAY)
    assert [c.criterion for c in good.criteria] == list(WRITING_CRITERIA)
    assert good.overall >= short.overall + 2
    for g, s in zip(good.criteria, short.criteria, strict=True):
        assert g.score >= s.score, g.criterion
    assert "too_short" in short.flags and "too_short" not in good.flags
    assert short.criteria[0].score <= 4.0  # task fulfilment capped
    assert good.confidence > short.confidence
    assert good.flags == frozenset()
    assert good.rubric_version == RUBRIC_VERSION
    _check_grid([c.score for c in good.criteria + short.criteria] + [good.overall, short.overall])
    assert good.overall == overall_score([c.score for c in good.criteria])


def test_off_topic_essay_is_flagged_and_capped() -> None:
    off = SCORER.score(TASK2, OFF_TOPIC_ESSAY)
    good = SCORER.score(TASK2, GOOD_ESSAY)
    assert "off_topic" in off.flags
    assert off.criteria[0].score <= 2.0
    assert off.overall < good.overall
    assert off.confidence < LOW_CONFIDENCE_BELOW


def test_copied_prompt_is_flagged() -> None:
    copied = SCORER.score(TASK2, (REMOTE_WORK_PROMPT + " ") * 3)
    assert "copied_prompt" in copied.flags
    assert copied.criteria[0].score <= 2.0


def test_feedback_is_concrete() -> None:
    short = SCORER.score(TASK2, SHORT_ESSAY)
    tf, _, vocab, _ = short.criteria
    assert "words against a minimum of 250" in tf.feedback
    assert "'dont'" in vocab.feedback
    assert any(SHORT_ESSAY[a.start : a.end] == "dont" for a in vocab.annotations)
    assert "Offline rubric estimate" in short.feedback


@pytest.mark.parametrize(
    "text", ["", "word", "a " * 600, "!!! ???", "Hello.\n\n\n\nWorld.", "x" * 5000, "é ü ñ 中文"]
)
def test_scores_always_on_grid_for_odd_inputs(text: str) -> None:
    for task in (TASK2, SPEAKING):
        if task.skill == "speaking" and not text.strip():
            continue  # refused: see test_offline_scorer_rejects_missing_answers
        a = SCORER.score(task, text)
        _check_grid([c.score for c in a.criteria] + [a.overall])
        assert 0.0 <= a.confidence <= 1.0
        for c in a.criteria:  # the generated contract accepts every criterion score
            row = {"criterion": c.criterion, "score": c.score, "feedback": c.feedback}
            CriterionScore.model_validate(row)


def test_a_text_transcript_goes_through_the_speaking_scorer_and_always_to_review() -> None:
    a = SCORER.score(SPEAKING, SPEAKING_TRANSCRIPT)
    assert [c.criterion for c in a.criteria] == list(SPEAKING_CRITERIA)
    assert a.rubric_version == SPEAKING_RUBRIC_VERSION
    assert {"pronunciation_not_assessed", "fluency_not_timed"} <= a.flags
    assert a.confidence < LOW_CONFIDENCE_BELOW  # hybrid: low_confidence, a person decides
    assert a.transcript == SPEAKING_TRANSCRIPT
    by = {c.criterion: c for c in a.criteria}
    assert "Not assessed from the sound" in by["pronunciation"].feedback
    assert "No word timings" in by["fluency"].feedback
    assert "nothing was heard" in a.feedback
    for c in a.criteria:  # feedback quotes the transcript itself
        for ann in c.annotations:
            assert SPEAKING_TRANSCRIPT[ann.start : ann.end].lower() in ann.message.lower()
    _check_grid([c.score for c in a.criteria] + [a.overall])
    assert a.overall == overall_score([c.score for c in a.criteria])


def test_a_transcript_is_judged_on_its_language_and_length() -> None:
    full = SCORER.score(SPEAKING, SPEAKING_TRANSCRIPT)
    hesitant = SCORER.score(SPEAKING, "um I uh I I like um food uh and um weekend er yes.")
    assert hesitant.overall <= full.overall - 2
    assert "too_short" in hesitant.flags
    cars = "The engine of a car needs oil and fuel. Mechanics repair brakes and tyres in the garage. "
    off = SCORER.score(SPEAKING, cars * 6)
    assert "off_topic" in off.flags
    discourse = next(c for c in off.criteria if c.criterion == "discourse_management")
    assert discourse.score <= 4.0


def test_offline_scorer_rejects_missing_answers() -> None:
    with pytest.raises(ScoringError) as e1:
        SCORER.score(SPEAKING, None)
    assert e1.value.code == "transcription_unavailable"
    with pytest.raises(ScoringError) as e2:
        SCORER.score(SPEAKING, "   ")
    assert e2.value.code == "transcription_unavailable"
    with pytest.raises(ScoringError) as e3:
        SCORER.score(TASK2, None)
    assert e3.value.code == "no_answer_text"
