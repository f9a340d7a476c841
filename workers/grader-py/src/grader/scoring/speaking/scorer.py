"""Scores a spoken answer on the five VSTEP Speaking criteria from its transcript and word timings.

- **Fluency** from the timings (:mod:`.fluency`): speech rate, articulation rate, long pauses,
  filled pauses, mean length of run.
- **Grammar**, **Vocabulary**, **Discourse management** from the transcript with the fitted writing
  models (:mod:`grader.scoring.writing`), imported, not copied. A transcript has no punctuation,
  capitals, paragraphs or spelling of its own, so the features that measure those are set to the
  training essays' mean (a neutral value, z = 0) before the models are applied; the error detectors'
  mechanics, spelling and run-on findings are ignored for the same reason. Discourse management is
  the mean of the Organisation model (cohesion devices, development) and the Task-fulfilment model
  (relevance), capped when the answer is off topic and by its length against the part's speaking time
  (:func:`length_cap`): the writing models' length features measure an essay against a word minimum,
  so for speech they are set neutral and the length is judged here instead.
- **Pronunciation** from the recogniser's confidence in each word: the mean posterior mapped onto
  0..10. Without confidences (a transcript-only provider) it cannot be judged: it is estimated as
  the mean of the other criteria, the grade is flagged ``pronunciation_not_assessed`` and its
  confidence kept below the policy's low-confidence line, so hybrid grading sends it to a person.

Feedback quotes the transcript: every annotation is a span of ``transcript.text``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from grader.contracts.constants import SPEAKING_CRITERIA
from grader.providers.transcription import TimedText, Transcript
from grader.scoring.base import (
    Annotation,
    Assessment,
    CriterionResult,
    TaskSpec,
    overall_score,
    strongest_and_weakest,
    to_grid,
)
from grader.scoring.lexicon import FILLERS
from grader.scoring.speaking.fluency import (
    LONG_PAUSE_S,
    FluencyMeasures,
    curve,
    fluency_score,
    measure_fluency,
)
from grader.scoring.writing.features import FEATURES, GRAMMAR_KINDS, measure
from grader.scoring.writing.model import fitted_model
from grader.scoring.writing.scorer import flags_of as text_flags
from grader.scoring.writing.scorer import predict, relevance
from grader.scoring.writing.text import tokens_of

RUBRIC_VERSION = "vstep-speaking-offline-2"
"""2: length judged against the speaking time (LENGTH_CAP_CURVE, EVIDENCE_CAP_CURVE), not the writing
minimum."""
PROVIDER = "offline"
MODEL = "speech-timing+wi-ridge-1"

TEXT_ONLY_FEATURES = (
    "mechanics",
    "run_on",
    "spelling",
    "sentence_length",
    "sentence_sd",
    "paragraphs",
    "subordination",
)
"""Features a transcript cannot carry (no punctuation, capitals, paragraphs, spelling): neutral."""
SPEECH_LENGTH_FEATURES = ("len_log", "len_short")
"""The writing models' length against a word minimum: neutral for speech (see :func:`length_cap`)."""
WORDS_PER_SECOND = 1.5
"""Expected words = the part's speaking time x 1.5 words a second (90 wpm). Why this figure: L2 speech
rates run about 80 wpm at A2 and 110-130 wpm at B1-B2 (the anchors of :mod:`.fluency`), counted over
the whole answer, pauses included; 90 wpm sits at the bottom of B1, so a learner who keeps talking,
unhurried, for the part's whole time meets the expectation, while a recogniser that misses some words
(about a quarter on espeak speech) does not push an answer that filled its time far below it."""
LENGTH_CAP_CURVE = ((0.1, 1.0), (0.25, 3.0), (0.5, 6.0), (0.8, 10.0))
"""Share of the expected words -> the most Discourse management can score: 80% or more no cap, half
the time 6, a quarter 3, a tenth 1 (a few sentences cannot show discourse over a 3-minute turn)."""
EVIDENCE_CAP_CURVE = ((0.1, 3.0), (0.25, 6.0), (0.4, 10.0))
"""Share of the expected words -> the most Grammar and Vocabulary can score: with the length features
neutral, the writing models judge the language of a few sentences as if they were a whole turn; a
tenth of the turn cannot show range (at most 3), 40% or more is enough evidence (no cap)."""
DEFAULT_SPEAKING_S = {"speaking_part_1": 180, "speaking_part_2": 180, "speaking_part_3": 240}
PRONUNCIATION_CURVE = ((0.3, 2.0), (0.5, 4.0), (0.65, 6.0), (0.8, 8.0), (0.92, 10.0))
"""Mean word posterior -> Pronunciation."""
UNSURE_WORD = 0.35
"""A word recognised with less confidence than this is pointed out under Pronunciation."""
MAX_CONFIDENCE = 0.75
TRANSCRIPT_ONLY_CONFIDENCE = 0.45
"""Below GRADING_POLICY.lowConfidenceBelow (0.5): a pronunciation never heard always goes to review."""
OFF_TOPIC_CAP = 4.0
MAX_ANNOTATIONS = 40
TEXT_TRANSCRIPT = "text"
"""``Transcript.provider`` of a transcript submitted as text: no recording, so nothing was heard."""


@dataclass(frozen=True, slots=True)
class Placed:
    """A recognised word and where it sits in the transcript text."""

    word: TimedText
    start: int
    end: int


def place_words(text: str, words: Sequence[TimedText]) -> list[Placed]:
    """Finds each word in ``text`` in order (the transcript is the words joined, but a provider's text
    may differ in case or punctuation); a word not found is left out of the annotations."""
    lowered = text.lower()
    out: list[Placed] = []
    at = 0
    for w in words:
        needle = w.text.lower().strip()
        if not needle:
            continue
        i = lowered.find(needle, at)
        if i < 0:
            continue
        out.append(Placed(w, i, i + len(needle)))
        at = i + len(needle)
    return out


def expected_words(task: TaskSpec, speaking_seconds: int | None) -> int:
    """How many words an answer that fills the part's speaking time has (the seed's time, or the part's
    usual one when the task has none)."""
    seconds = speaking_seconds or DEFAULT_SPEAKING_S.get(task.part, 180)
    return max(30, round(seconds * WORDS_PER_SECOND))


def length_cap(words: int, expected: int) -> float:
    """The most Discourse management can score for ``words`` of ``expected`` (:data:`LENGTH_CAP_CURVE`)."""
    return curve(words / expected, LENGTH_CAP_CURVE) if expected > 0 else 10.0


def _quote(text: str, start: int, end: int) -> str:
    return text[start:end]


def _fluency_feedback(
    m: FluencyMeasures, words: Sequence[TimedText], placed: Sequence[Placed], text: str
) -> tuple[str, list[Annotation]]:
    long_pauses = [p for p in m.pauses if p.seconds >= LONG_PAUSE_S]
    notes = [
        f"{m.speech_rate_wpm:.0f} words a minute; {len(m.pauses)} pause(s) of half a second or more "
        f"({len(long_pauses)} of a second or more); {len(m.filled)} filled pause(s); "
        f"about {m.mean_run:.1f} words between pauses."
    ]
    if m.speech_rate_wpm < 100:
        notes.append(
            "Aim for longer stretches of speech without stopping: plan the next idea while you speak."
        )
    where = {id(p.word): p for p in placed}
    ann: list[Annotation] = []
    for pause in long_pauses:
        p = where.get(id(words[pause.before]))
        if p is not None:
            quoted = _quote(text, p.start, p.end)
            ann.append(Annotation(p.start, p.end, f"A {pause.seconds:.1f} s pause before '{quoted}'."))
    for p in placed:
        if p.word.text.lower() in FILLERS:
            quoted = _quote(text, p.start, p.end)
            ann.append(
                Annotation(p.start, p.end, f"'{quoted}': a filled pause; a short silence sounds more fluent.")
            )
    return " ".join(notes), ann


def _pronunciation(placed: Sequence[Placed], text: str) -> tuple[float | None, str, list[Annotation]]:
    confidences = [p.word.confidence for p in placed if p.word.confidence is not None]
    if not confidences:
        return (
            None,
            "Not assessed from the sound: only a transcript was available, so a teacher should judge it.",
            [],
        )
    mean = statistics.fmean(confidences)
    unsure = [
        p
        for p in placed
        if p.word.confidence is not None and p.word.confidence < UNSURE_WORD and p.word.text not in FILLERS
    ]
    ann = [
        Annotation(
            p.start,
            p.end,
            f"'{_quote(text, p.start, p.end)}': the recogniser was unsure of this word "
            f"({p.word.confidence:.2f}); check how you say it.",
        )
        for p in unsure
    ]
    note = (
        f"Estimated from the recogniser's confidence in your words (mean {mean:.2f}); "
        f"{len(unsure)} word(s) were hard to recognise. An automatic estimate, not a phonetic assessment."
    )
    return curve(mean, PRONUNCIATION_CURVE), note, ann


def score_speech(task: TaskSpec, transcript: Transcript, speaking_seconds: int | None = None) -> Assessment:
    """Scores one transcribed answer (``transcript.words`` with timings; confidences optional)."""
    text = transcript.text
    model = fitted_model()
    expected = expected_words(task, speaking_seconds)
    allowed = frozenset(t.lower for t in tokens_of(task.prompt))
    m = measure(text, expected, model.lexicon, allowed)
    for name in (*TEXT_ONLY_FEATURES, *SPEECH_LENGTH_FEATURES):
        m.values[name] = model.means[FEATURES.index(name)]
    raw = predict(model, m)
    rel = relevance(text, task.prompt)
    flags = set(text_flags(m.word_count, expected, rel)) - {"copied_prompt"}

    words = list(transcript.words)
    placed = place_words(text, words)
    timed = len(words) > 1 and any(w.end > 0 for w in words)
    fm = measure_fluency(words) if timed else None

    share = m.word_count / expected if expected > 0 else 1.0
    evidence = curve(share, EVIDENCE_CAP_CURVE)
    grammar = min(raw.criteria["grammar"], evidence)
    vocabulary = min(raw.criteria["vocabulary"], evidence)
    discourse = statistics.fmean((raw.criteria["organisation"], raw.criteria["task_fulfilment"]))
    discourse = min(discourse, length_cap(m.word_count, expected))
    if "off_topic" in flags:
        discourse = min(discourse, OFF_TOPIC_CAP)
    fluency = fluency_score(fm) if fm is not None else statistics.fmean((grammar, vocabulary))
    pron, pron_note, pron_ann = _pronunciation(placed, text)
    if pron is None:
        flags.add("pronunciation_not_assessed")
        pron = statistics.fmean((grammar, vocabulary, fluency))
    if fm is None:
        flags.add("fluency_not_timed")

    found = [i for i in m.issues if i.kind in GRAMMAR_KINDS]
    grammar_ann = [
        Annotation(i.start, i.end, f"'{_quote(text, i.start, i.end)}': {i.message}", i.suggestion)
        for i in found
    ]
    rare = set(m.rare_words[:8])
    vocab_ann: list[Annotation] = []
    seen: set[str] = set()
    for t in tokens_of(text):
        if t.lower in rare and t.lower not in seen:
            seen.add(t.lower)
            vocab_ann.append(Annotation(t.start, t.end, f"'{t.text}': a less common word, well used."))
    discourse_ann: list[Annotation] = []
    for device in m.cohesion_devices[:8]:
        i = f" {text.lower()} ".find(f" {device} ")
        if i >= 0:
            discourse_ann.append(
                Annotation(i, i + len(device), f"'{text[i : i + len(device)]}' links your ideas.")
            )
    discourse_ann.extend(rel.used[:6])
    if fm is not None:
        fluency_note, fluency_ann = _fluency_feedback(fm, words, placed, text)
    else:
        fluency_note, fluency_ann = "No word timings: fluency estimated from the language only.", []

    notes = {
        "grammar": (
            f"{len(found)} likely grammar slip(s) heard in {m.word_count} words "
            "(from an automatic transcript, which can mishear)."
            if transcript.provider != TEXT_TRANSCRIPT
            else f"{len(found)} likely grammar slip(s) in {m.word_count} words of the transcript."
        ),
        "vocabulary": f"{round(100 * m.values['rare'])}% of content words are less common ones.",
        "pronunciation": pron_note,
        "fluency": fluency_note,
        "discourse_management": (
            f"{m.word_count} words against about {expected} expected for this part; "
            f"{len(m.cohesion_devices)} different linking devices; "
            f"{round(100 * rel.coverage)}% of the task's key words used."
        ),
    }
    annotations = {
        "grammar": grammar_ann,
        "vocabulary": vocab_ann,
        "pronunciation": pron_ann,
        "fluency": fluency_ann,
        "discourse_management": discourse_ann,
    }
    values = {
        "grammar": grammar,
        "vocabulary": vocabulary,
        "pronunciation": pron,
        "fluency": fluency,
        "discourse_management": discourse,
    }
    if m.word_count == 0:
        values = dict.fromkeys(values, 0.0)
    results = tuple(
        CriterionResult(
            c,
            to_grid(values[c]),
            notes[c],
            tuple(sorted(annotations[c], key=lambda a: (a.start, a.end))[:MAX_ANNOTATIONS]),
        )
        for c in SPEAKING_CRITERIA
    )
    scores = [r.score for r in results]
    overall = overall_score(scores)
    source = (
        "the submitted transcript (nothing was heard)"
        if transcript.provider == TEXT_TRANSCRIPT
        else f"an automatic transcript ({transcript.provider})"
    )
    summary = f"Offline estimate from {source}: overall {overall:.1f}. {strongest_and_weakest(results)}"
    if "too_short" in flags:
        summary += " The answer is much shorter than this part expects."
    if "off_topic" in flags:
        summary += " The answer does not seem to address the task."
    if "pronunciation_not_assessed" in flags:
        summary += " Pronunciation was not assessed from the sound."
    return Assessment(
        criteria=results,
        overall=overall,
        raw_mean=sum(scores) / len(scores),
        feedback=summary,
        confidence=_confidence(flags, m.word_count, raw.disagreement),
        provider=PROVIDER,
        model=MODEL,
        rubric_version=RUBRIC_VERSION,
        flags=frozenset(flags),
        transcript=text,
    )


def _confidence(flags: set[str], words: int, disagreement: float) -> float:
    cap = TRANSCRIPT_ONLY_CONFIDENCE if "pronunciation_not_assessed" in flags else MAX_CONFIDENCE
    c = MAX_CONFIDENCE
    if words < 60:
        c -= 0.15
    if disagreement > 1.5:
        c -= 0.1
    for flag, cost in (("too_short", 0.2), ("off_topic", 0.35), ("fluency_not_timed", 0.1)):
        if flag in flags:
            c -= cost
    return round(max(0.05, min(cap, c)), 2)
