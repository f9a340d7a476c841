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

from grader.contracts.constants import SPEAKING_CRITERIA, WRITING_CRITERIA
from grader.contracts.models import CriterionScore
from grader.scoring import OfflineScorer, ScoringError, TaskSpec
from grader.scoring.base import overall_score, round_half_up_to_half, to_grid
from grader.scoring.offline import (
    american_spelling,
    extract_features,
    interp,
    mattr,
    misspellings,
    score_speaking_transcript,
    score_writing,
)
from grader.scoring.writing.scorer import RUBRIC_VERSION

TASK2 = TaskSpec("writing", "writing_task_2", REMOTE_WORK_PROMPT, 250)
SPEAKING = TaskSpec("speaking", "speaking_part_1", SPEAKING_PROMPT, 0)


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


def test_interp_and_mattr() -> None:
    points = ((0.0, 0.0), (1.0, 10.0))
    assert interp(-1, points) == 0.0
    assert interp(0.5, points) == 5.0
    assert interp(2, points) == 10.0
    assert mattr([]) == 0.0
    assert mattr(["a", "a", "b", "b"]) == 0.5
    assert mattr(["w"] * 100) < 0.05


def test_spelling_uses_offline_list_and_accepts_british() -> None:
    assert misspellings(["recieve", "government", "teamwork", "organised", "colour", "Hanoi"]) == ["recieve"]
    assert american_spelling("organise") == "organize"
    assert american_spelling("centre") == "center"


def _check_grid(scores: list[float]) -> None:
    for s in scores:
        assert 0.0 <= s <= 10.0
        assert (s * 2).is_integer()


def test_well_developed_essay_scores_higher_than_short_one() -> None:
    good = score_writing(TASK2, GOOD_ESSAY)
    short = score_writing(TASK2, SHORT_ESSAY)
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
    off = score_writing(TASK2, OFF_TOPIC_ESSAY)
    good = score_writing(TASK2, GOOD_ESSAY)
    assert "off_topic" in off.flags
    assert off.criteria[0].score <= 2.0
    assert off.overall < good.overall
    assert off.confidence < 0.6


def test_copied_prompt_is_flagged() -> None:
    copied = score_writing(TASK2, (REMOTE_WORK_PROMPT + " ") * 3)
    assert "copied_prompt" in copied.flags
    assert copied.criteria[0].score <= 2.0


def test_feedback_is_concrete() -> None:
    short = score_writing(TASK2, SHORT_ESSAY)
    tf, _, vocab, _ = short.criteria
    assert "words against a minimum of 250" in tf.feedback
    assert "'dont'" in vocab.feedback
    assert "Offline rubric estimate" in short.feedback


def test_grammar_patterns_are_detected() -> None:
    f = extract_features("He have a apple. They was happy. I can to swim.", "apples")
    assert {"subject-verb agreement", "article", "modal + to"} <= set(f.grammar_errors)


@pytest.mark.parametrize(
    "text", ["", "word", "a " * 600, "!!! ???", "Hello.\n\n\n\nWorld.", "x" * 5000, "é ü ñ 中文"]
)
def test_scores_always_on_grid_for_odd_inputs(text: str) -> None:
    a = score_writing(TASK2, text)
    _check_grid([c.score for c in a.criteria] + [a.overall])
    assert 0.0 <= a.confidence <= 1.0
    for c in a.criteria:  # the generated contract accepts every criterion score
        CriterionScore.model_validate({"criterion": c.criterion, "score": c.score, "feedback": c.feedback})


def test_speaking_transcript_scores_five_criteria_with_low_confidence() -> None:
    a = score_speaking_transcript(SPEAKING, SPEAKING_TRANSCRIPT)
    assert [c.criterion for c in a.criteria] == list(SPEAKING_CRITERIA)
    assert "pronunciation_not_assessed" in a.flags
    assert a.confidence < 0.6
    assert a.transcript == SPEAKING_TRANSCRIPT
    pron = next(c for c in a.criteria if c.criterion == "pronunciation")
    assert "Not assessed from audio" in pron.feedback
    _check_grid([c.score for c in a.criteria] + [a.overall])
    hesitant = score_speaking_transcript(SPEAKING, "um I uh I I like um food uh and um weekend er yes.")
    assert hesitant.overall < a.overall


def test_offline_scorer_rejects_missing_answers() -> None:
    scorer = OfflineScorer()
    with pytest.raises(ScoringError) as e1:
        scorer.score(SPEAKING, None)
    assert e1.value.code == "transcription_unavailable"
    with pytest.raises(ScoringError) as e2:
        scorer.score(TASK2, None)
    assert e2.value.code == "no_answer_text"
