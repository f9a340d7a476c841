"""How long a spoken answer should be: the expectation comes from the part's speaking time
(``WORDS_PER_SECOND``), not from the writing models' word minimum, so an answer that fills its time is
not punished on Discourse management, while a few sentences in a 3-minute turn still score low."""

from __future__ import annotations

import pytest
from test_speaking import TASK, timed

from grader.providers.transcription import Transcript
from grader.scoring.base import TaskSpec
from grader.scoring.speaking.scorer import (
    WORDS_PER_SECOND,
    expected_words,
    length_cap,
    score_speech,
)

# A relevant, organised answer to the gift task (speaking part 2): what a B1-B2
# learner says in 180 s at 1.5-1.7 words a second (296 words).
FULL_ANSWER = (
    "well in my opinion the best present for our teacher is the photo book with messages from every "
    "student first of all it is very personal because each of us can write a few words about her lessons "
    "and about what we learned from her for example I would write about the time she helped me with my "
    "exams and I think many students have similar stories secondly a photo book lasts for a long time she "
    "can keep it at home and look at it whenever she misses the school and she can show it to her family "
    "and her friends in addition it is not expensive so every student can take part even students who do "
    "not have much money on the other hand the weekend trip to a seaside resort is a nice idea but it is "
    "quite expensive and she may not have time to go because she might have other plans after she "
    "retires also a trip is over in two days and then nothing is left to remember it by as for the party "
    "at the school with former students I think it is difficult to organise because many of us live in "
    "different cities now and it would be hard to find a date that suits everyone moreover some teachers "
    "do not like to be the centre of attention at a big party so she may feel uncomfortable to sum up I "
    "believe the photo book is the most suitable gift because it is personal cheap and it will last "
    "forever while the trip is too expensive and the party is too hard to organise that is why I would "
    "choose the photo book and I am sure she will love it and remember our class for many years"
)
SPEAKING_S = 180


def spoken(text: str, seconds: float) -> Transcript:
    """``text`` spoken evenly over ``seconds`` (confident words, short gaps)."""
    n = len(text.split())
    return Transcript(text, "test", "m", timed(text, word_s=max(0.1, seconds / n - 0.05)))


def discourse(text: str, seconds: float) -> float:
    a = score_speech(TASK, spoken(text, seconds), SPEAKING_S)
    return next(c.score for c in a.criteria if c.criterion == "discourse_management")


def test_expected_words_come_from_the_speaking_time() -> None:
    assert WORDS_PER_SECOND == 1.5
    assert expected_words(TASK, 180) == 270
    assert expected_words(TASK, 240) == 360
    part3 = TaskSpec(skill="speaking", part="speaking_part_3", prompt="x", min_words=0)
    assert expected_words(part3, None) == 360  # the part's usual time when the task has none
    assert expected_words(TASK, 5) == 30  # never below a few sentences


def test_the_length_cap_lifts_at_80_percent_and_falls_with_the_share_of_the_time_filled() -> None:
    assert length_cap(270, 270) == 10.0 and length_cap(216, 270) == 10.0
    assert length_cap(135, 270) == pytest.approx(6.0)
    assert length_cap(27, 270) == pytest.approx(1.0)
    assert length_cap(0, 270) == 0.0
    caps = [length_cap(w, 270) for w in range(0, 300, 5)]
    assert caps == sorted(caps)  # more words never lower the cap
    assert length_cap(10, 0) == 10.0


def test_a_fluent_relevant_answer_that_fills_its_time_is_not_punished_for_length() -> None:
    words = len(FULL_ANSWER.split())
    assert 250 <= words <= 300
    a = score_speech(TASK, spoken(FULL_ANSWER, SPEAKING_S), SPEAKING_S)
    assert "too_short" not in a.flags and "off_topic" not in a.flags
    assert length_cap(words, expected_words(TASK, SPEAKING_S)) == 10.0
    # the length takes nothing off: Discourse is what the Organisation and Task-fulfilment models say
    assert a.criteria[-1].criterion == "discourse_management"
    assert discourse(FULL_ANSWER, SPEAKING_S) >= 4.0


def test_very_short_answers_still_score_low_on_discourse() -> None:
    first = FULL_ANSWER.split()
    full = discourse(FULL_ANSWER, SPEAKING_S)
    forty_four = " ".join(first[:44])
    assert discourse(forty_four, 17) <= 2.0  # 44 words in a 3-minute turn: a sixth of it
    assert discourse(" ".join(first[:20]), 8) <= 1.0
    assert discourse(" ".join(first[:135]), 90) <= 6.0  # half the time: at most 6
    a = score_speech(TASK, spoken(forty_four, 17), SPEAKING_S)
    assert "too_short" in a.flags
    assert full >= discourse(forty_four, 17) + 2
    # nor do a few sentences show range: Grammar and Vocabulary are capped too (a tenth: at most 3)
    few = score_speech(TASK, spoken(" ".join(first[:27]), 10), SPEAKING_S)
    assert all(c.score <= 3.0 for c in few.criteria if c.criterion in ("grammar", "vocabulary"))
    assert few.overall < score_speech(TASK, spoken(FULL_ANSWER, SPEAKING_S), SPEAKING_S).overall
