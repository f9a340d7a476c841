"""The fitted offline writing scorer on essays written for this project (tests/writing_fixtures.py)."""

from __future__ import annotations

import time

import pytest
from writing_fixtures import FIXTURES, LETTER_SHORT_GOOD, PLANTED, PLANTED_ERRORS, TASK1, TASK2, WEAK_145

from grader.scoring.base import count_words
from grader.scoring.offline import OfflineScorer
from grader.scoring.writing.scorer import near_minimum_floors, profile_in_range, score_writing


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_stays_in_its_band_range(name: str) -> None:
    task, text, lo, hi = FIXTURES[name]
    a = score_writing(task, text)
    assert lo <= a.overall <= hi, (name, a.overall, [c.score for c in a.criteria])


def test_weak_short_answer_cannot_reach_b2() -> None:
    assert 140 <= count_words(WEAK_145) <= 160
    a = score_writing(TASK2, WEAK_145)
    assert a.overall < 6.0
    grammar = next(c for c in a.criteria if c.criterion == "grammar")
    assert grammar.score < 5.0  # full of errors
    assert len(grammar.annotations) >= 5


def test_strong_c1_essay_reaches_c1() -> None:
    _, text, _, _ = FIXTURES["c1_essay"]
    assert score_writing(TASK2, text).overall >= 8.5


def test_off_topic_answer_is_flagged_with_low_confidence() -> None:
    _, text, _, _ = FIXTURES["off_topic"]
    a = score_writing(TASK2, text)
    assert "off_topic" in a.flags
    assert a.criteria[0].score <= 2.0
    assert a.confidence < 0.5  # hybrid routes it to a human (low_confidence and off_topic)


def test_strong_essay_just_over_the_minimum_is_confident() -> None:
    # An uneven profile (Task fulfilment well below Grammar just over the minimum) is the assessment,
    # not a doubt about the level: hybrid grading must not send every good essay to a human.
    task, text, _, _ = FIXTURES["c1_essay"]
    assert task.min_words <= count_words(text) <= 1.3 * task.min_words
    a = score_writing(task, text)
    assert a.confidence >= 0.7
    assert min(c.score for c in a.criteria) < max(c.score for c in a.criteria)


def test_profile_keeps_the_overall_level_inside_the_scale() -> None:
    # deviations that would run past 10 are shrunk, not clipped: the mean stays the model's level
    p = profile_in_range(8.9, {"a": -2.7, "b": -2.0, "c": 2.4, "d": 2.3})
    assert max(p.values()) == pytest.approx(10.0)
    assert sum(p.values()) / 4 == pytest.approx(8.9)
    assert p["a"] < p["b"] < p["d"] < p["c"]
    low = profile_in_range(0.5, {"a": -1.0, "b": 1.0})
    assert low == pytest.approx({"a": 0.0, "b": 1.0})
    assert profile_in_range(5.0, {"a": -1.0, "b": 1.0}) == pytest.approx({"a": 4.0, "b": 6.0})
    assert profile_in_range(11.0, {"a": 0.0}) == {"a": 10.0}


def test_a_misspelt_word_is_not_praised() -> None:
    text = "She have a informations about the trip. " + FIXTURES["b1_essay"][1]
    vocabulary = next(c for c in score_writing(TASK2, text).criteria if c.criterion == "vocabulary")
    about = [x.message for x in vocabulary.annotations if text[x.start : x.end] == "informations"]
    assert about and all("well chosen" not in message for message in about)


def test_grammar_finds_planted_errors_at_their_spans() -> None:
    a = score_writing(TASK2, PLANTED)
    grammar = next(c for c in a.criteria if c.criterion == "grammar")
    found = {(x.start, x.end) for x in grammar.annotations}
    for quoted, context in PLANTED_ERRORS:
        start = PLANTED.index(context) + context.index(quoted)
        assert (start, start + len(quoted)) in found, quoted
    for x in grammar.annotations:
        assert PLANTED[x.start : x.end] in x.message  # every message quotes the learner's words
    suggestions = {PLANTED[x.start : x.end]: x.suggestion for x in grammar.annotations}
    assert suggestions["have"] == "has"
    assert suggestions["went"] == "gone"


def test_grammar_responds_to_errors() -> None:
    _, clean, _, _ = FIXTURES["b1_essay"]
    broken = clean.replace("she works", "she work").replace("people help", "people helps")
    broken = broken.replace("They can", "They can to").replace("is important", "are important")
    broken = broken.replace("my cousin moved", "my cousin have moved").replace(
        " a big company", " a informations"
    )
    g_clean = next(c for c in score_writing(TASK2, clean).criteria if c.criterion == "grammar")
    g_broken = next(c for c in score_writing(TASK2, broken).criteria if c.criterion == "grammar")
    assert len(g_broken.annotations) > len(g_clean.annotations)
    assert g_broken.score < g_clean.score


def test_every_criterion_quotes_the_text_and_says_how_to_lift_it() -> None:
    text = WEAK_145
    a = score_writing(TASK2, text)
    for c in a.criteria:
        assert c.annotations, c.criterion
        for x in c.annotations:
            assert 0 <= x.start < x.end <= len(text)
        assert "To reach" in c.feedback or "To stay" in c.feedback


def test_deterministic_and_quick() -> None:
    scorer = OfflineScorer()  # loads the word tables
    texts = [(task, text) for task, text, _, _ in FIXTURES.values()] * 4
    first = [scorer.score(task, text) for task, text in texts]
    times = []
    for task, text in texts:
        t0 = time.perf_counter()
        scorer.score(task, text)
        times.append(time.perf_counter() - t0)
    assert [scorer.score(t, x) for t, x in texts] == first
    times.sort()
    assert times[int(0.95 * (len(times) - 1))] < 0.05


def test_a_linker_before_its_clause_is_not_a_comma_splice() -> None:
    text = (
        "However, there are problems. On the other hand, it is cheap. "
        "Colleagues do not meet each other, it is hard to share ideas."
    )
    grammar = next(c for c in score_writing(TASK2, text).criteria if c.criterion == "grammar")
    splices = [x.start for x in grammar.annotations if "joined by a comma" in x.message]
    assert splices == [text.index(", it is hard")]


def test_a_good_answer_just_under_the_minimum_is_penalised_not_zeroed() -> None:
    # ~90 words of a 120-word task, well written: the length models alone put Task fulfilment and
    # Organisation at 2.0; a rater takes points off for length, not the whole criterion.
    assert 0.6 * TASK1.min_words <= count_words(LETTER_SHORT_GOOD) < 0.8 * TASK1.min_words
    a = score_writing(TASK1, LETTER_SHORT_GOOD)
    by = {c.criterion: c.score for c in a.criteria}
    assert by["task_fulfilment"] >= 4.0
    assert by["organisation"] >= 4.5
    assert max(by.values()) <= 5.5  # under 80% of the minimum nothing reaches B2
    assert by["task_fulfilment"] <= 5.0  # under the minimum
    assert "write at least" in a.criteria[0].feedback


def test_near_minimum_floors_only_for_good_language_just_under_the_minimum() -> None:
    assert near_minimum_floors(1.0, 9.0) == {}  # at the minimum the models stand
    assert near_minimum_floors(0.59, 9.0) == {}  # too short: no floor
    assert near_minimum_floors(0.9, 5.0) == {}  # weak language: the length models stand
    assert near_minimum_floors(0.9, 5.99) == {}  # below the B2 cut-off: not "good language"
    assert near_minimum_floors(0.9, 6.0) != {}  # B2 language (the rubric's 6.0) gets the floor
    near, far = near_minimum_floors(0.95, 7.0), near_minimum_floors(0.65, 7.0)
    assert set(near) == {"task_fulfilment", "organisation"}
    assert 7.0 - 2.0 < near["task_fulfilment"] < far["task_fulfilment"] + 2.0 < 7.0 + 2.0
    assert near["organisation"] > far["organisation"]
    assert near["task_fulfilment"] < near["organisation"] < 7.0
    assert near_minimum_floors(0.99, 10.0) == {"task_fulfilment": 6.0, "organisation": 6.0}  # never C1
