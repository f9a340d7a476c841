"""Fluency measures on a recogniser's word timings (pure functions).

The measures are the usual ones of automated speaking assessment: speech rate (words per minute over
the whole answer), articulation rate (words per minute of speaking time, pauses left out), silent
pauses (gaps between words of at least :data:`PAUSE_S`, and long ones of at least
:data:`LONG_PAUSE_S`), filled pauses (um, uh, er ...), and mean length of run (words between two
pauses). Each becomes a 0..10 sub-score through a piecewise-linear curve; fluency is their weighted mean.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from grader.providers.transcription import TimedText
from grader.scoring.lexicon import FILLERS
from grader.scoring.writing.linear import piecewise

PAUSE_S = 0.5
"""A silence between two words this long or longer is a pause."""
LONG_PAUSE_S = 1.0
"""... and this long a long one (a hesitation a listener notices)."""

# (measure, sub-score) anchors. Speech rates of L2 speakers: about 80 wpm at A2, 110-130 at B1-B2,
# 150+ near native; runs of 3-4 words are halting, 8-12 fluent.
SPEECH_RATE_CURVE = ((40.0, 1.0), (80.0, 4.0), (110.0, 6.0), (140.0, 8.0), (170.0, 10.0))
ARTICULATION_CURVE = ((60.0, 1.0), (100.0, 4.0), (140.0, 7.0), (180.0, 10.0))
LONG_PAUSES_PER_MIN_CURVE = ((0.0, 10.0), (2.0, 8.0), (5.0, 5.0), (10.0, 2.0), (15.0, 0.0))
FILLED_PER_100_CURVE = ((0.0, 10.0), (2.0, 8.0), (5.0, 5.0), (10.0, 2.0))
RUN_LENGTH_CURVE = ((2.0, 1.0), (4.0, 4.0), (8.0, 7.5), (14.0, 10.0))
WEIGHTS = {"speech_rate": 0.3, "articulation": 0.15, "long_pauses": 0.2, "filled": 0.15, "run_length": 0.2}


@dataclass(frozen=True, slots=True)
class Pause:
    before: int
    """Index of the word after the pause."""
    seconds: float


@dataclass(frozen=True, slots=True)
class FluencyMeasures:
    words: int
    speaking_s: float
    """From the first word's start to the last word's end."""
    speech_rate_wpm: float
    articulation_wpm: float
    pauses: tuple[Pause, ...]
    long_pauses_per_min: float
    mean_pause_s: float
    filled: tuple[int, ...]
    """Indexes of the filled pauses."""
    filled_per_100: float
    mean_run: float


def measure_fluency(words: Sequence[TimedText]) -> FluencyMeasures:
    """The measures of one answer; ``words`` in time order, fillers included."""
    if not words:
        return FluencyMeasures(0, 0.0, 0.0, 0.0, (), 0.0, 0.0, (), 0.0, 0.0)
    spoken = len(words)
    span = max(0.01, words[-1].end - words[0].start)
    pauses = tuple(
        Pause(i, round(words[i].start - words[i - 1].end, 2))
        for i in range(1, spoken)
        if words[i].start - words[i - 1].end >= PAUSE_S
    )
    silence = sum(p.seconds for p in pauses)
    filled = tuple(i for i, w in enumerate(words) if w.text.lower() in FILLERS)
    lexical = spoken - len(filled)
    runs: list[int] = []
    run = 0
    pause_before = {p.before for p in pauses}
    for i, w in enumerate(words):
        if i in pause_before or w.text.lower() in FILLERS:
            if run:
                runs.append(run)
            run = 0
        if w.text.lower() not in FILLERS:
            run += 1
    if run:
        runs.append(run)
    minutes = span / 60
    return FluencyMeasures(
        words=lexical,
        speaking_s=span,
        speech_rate_wpm=lexical / minutes,
        articulation_wpm=lexical / max(0.01, (span - silence) / 60),
        pauses=pauses,
        long_pauses_per_min=sum(1 for p in pauses if p.seconds >= LONG_PAUSE_S) / minutes,
        mean_pause_s=statistics.fmean(p.seconds for p in pauses) if pauses else 0.0,
        filled=filled,
        filled_per_100=100.0 * len(filled) / spoken,
        mean_run=statistics.fmean(runs) if runs else 0.0,
    )


def curve(x: float, knots: Sequence[tuple[float, float]]) -> float:
    """Piecewise-linear through ``knots``, kept within 0..10."""
    return max(0.0, min(10.0, piecewise(x, knots)))


def fluency_subscores(m: FluencyMeasures) -> dict[str, float]:
    return {
        "speech_rate": curve(m.speech_rate_wpm, SPEECH_RATE_CURVE),
        "articulation": curve(m.articulation_wpm, ARTICULATION_CURVE),
        "long_pauses": curve(m.long_pauses_per_min, LONG_PAUSES_PER_MIN_CURVE),
        "filled": curve(m.filled_per_100, FILLED_PER_100_CURVE),
        "run_length": curve(m.mean_run, RUN_LENGTH_CURVE),
    }


def fluency_score(m: FluencyMeasures) -> float:
    """Fluency on 0..10 (unrounded)."""
    if m.words == 0:
        return 0.0
    subs = fluency_subscores(m)
    return sum(WEIGHTS[k] * subs[k] for k in WEIGHTS) / sum(WEIGHTS.values())
