"""The default offline Writing scorer: the fitted model plus rules a rater would apply anyway.

1. :func:`~grader.scoring.writing.features.measure` the answer (and find its problems, with spans).
2. The overall model (all features) gives the level; the four criterion models (each on its own
   features) give the profile around it: criterion = overall + (criterion model - mean of the four).
   So the mean of the criteria is the overall model's estimate, and Grammar moves with the errors
   found, Vocabulary with the words, and so on.
3. Rules: a well-written answer just under the task's minimum keeps Task fulfilment and
   Organisation within a length penalty of its language (:func:`near_minimum_floors`); under the
   minimum Task fulfilment is capped (and under 80% of it, no criterion can reach B2); an off-topic
   or copied answer is capped and flagged.
4. Confidence falls with distance from the training essays, with disagreement between the models,
   and with every hard flag; hybrid grading routes the doubtful ones to a human.
5. Feedback quotes the learner's words with their offsets (:class:`Annotation`) and says what
   would lift each criterion to the next band.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grader.contracts.constants import CEFR_CUTOFFS, WRITING_CRITERIA
from grader.scoring.base import (
    Annotation,
    Assessment,
    CriterionResult,
    TaskSpec,
    cefr_label,
    count_words,
    overall_score,
    strongest_and_weakest,
    to_grid,
)
from grader.scoring.lexicon import INSTRUCTION_WORDS, STOPWORDS
from grader.scoring.writing.detectors import Issue
from grader.scoring.writing.features import GRAMMAR_KINDS, MECHANICS_KINDS, Measured, measure
from grader.scoring.writing.linear import piecewise
from grader.scoring.writing.model import CORPUS_EXPECTED_WORDS, FittedWritingModel, fitted_model
from grader.scoring.writing.text import tokens_of

RUBRIC_VERSION = "vstep-offline-2"
PROVIDER = "offline"
MODEL = "wi-ridge-1"

MAX_CONFIDENCE = 0.85
UNDER_MINIMUM_TF_CAP = 5.0
"""VSTEP band 5 for Task fulfilment: 'only partly addresses the task' (below the word minimum)."""
EVIDENCE_RATIO = 0.8
EVIDENCE_CAP = 5.5
"""Below 80% of the minimum no criterion reaches B2: there is too little language to show it."""
TOO_SHORT_RATIO = 0.6
TOO_SHORT_TF_CAP = 4.0
TOO_SHORT_CAP = 5.0
OFF_TOPIC_TF_CAP = 2.0
OFF_TOPIC_CAP = 5.0
OFF_TOPIC_COVERAGE = 0.1
OFF_TOPIC_ON_PROMPT = 0.06
COPIED_TRIGRAM_SHARE = 0.5
NEAR_MINIMUM_PENALTY = {
    "task_fulfilment": ((TOO_SHORT_RATIO, 3.5), (1.0, 1.5)),
    "organisation": ((TOO_SHORT_RATIO, 2.5), (1.0, 1.0)),
}
"""Share of the minimum -> how far below the language level these criteria may fall (see
:func:`near_minimum_floors`): just under the minimum 1.5 and 1 points, at 60% of it 3.5 and 2.5."""
NEAR_MINIMUM_FLOOR_MAX = 6.0
"""The floors lift a criterion at most to the B2 cut-off: they undo the length models' collapse, they
do not carry an answer under the minimum into C1 (the models and the caps decide above that)."""
GOOD_LANGUAGE = dict(CEFR_CUTOFFS)["B2"]
"""Vocabulary and Grammar averaging B2 (the rubric's B2 cut-off, 6.0) count as well written for the
floors. Chosen from the rubric, not fitted: the corpus has no minimums, so it cannot say which short
answers a rater would spare. On train essays cut to 65-95% of 150 words, 35% of B2+ writers' and 8%
of lower writers' pieces pass this gate (docs/grading.md). Dev figures were never used for it."""
MODEL_DISAGREEMENT = 1.5
"""The criterion models' mean this far (VSTEP points) from the overall model lowers the confidence."""
MAX_ANNOTATIONS = 40
REPEATED_WORD = 5
"""A content word used this often is pointed out as repetitive."""
EXPECTED_PARAGRAPHS = {"writing_task_1": 3, "writing_task_2": 4}
BANDS = tuple(sorted(CEFR_CUTOFFS, key=lambda band: band[1]))
"""The CEFR cut-offs from packages/contracts, lowest first: the band a criterion can reach next."""


def _stem(word: str) -> str:
    w = word.lower()
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: len(w) - len(suffix)] + repl
    return w


@dataclass(frozen=True, slots=True)
class Relevance:
    coverage: float
    """Share of the prompt's content words the answer uses."""
    on_prompt: float
    """Share of the answer's content words that are the prompt's."""
    copied: float
    """Share of the answer's word trigrams found in the prompt."""
    used: tuple[Annotation, ...]
    """First use of each prompt keyword in the answer."""


def relevance(text: str, prompt: str) -> Relevance:
    tokens = tokens_of(text)
    content = [t for t in tokens if t.lower not in STOPWORDS and len(t.text) > 2]
    prompt_tokens = [t.lower for t in tokens_of(prompt)]
    keys = {_stem(w) for w in prompt_tokens if w not in STOPWORDS and len(w) > 2} - INSTRUCTION_WORDS
    used: dict[str, Annotation] = {}
    on = 0
    for t in content:
        s = _stem(t.text)
        if s in keys:
            on += 1
            if s not in used:
                used[s] = Annotation(t.start, t.end, f"'{t.text}' picks up the task's wording.")
    lower = [t.lower for t in tokens]
    prompt_tri = set(zip(prompt_tokens, prompt_tokens[1:], prompt_tokens[2:], strict=False))
    tri = list(zip(lower, lower[1:], lower[2:], strict=False))
    return Relevance(
        coverage=len(used) / len(keys) if keys else 1.0,
        on_prompt=on / len(content) if content else 0.0,
        copied=sum(1 for t in tri if t in prompt_tri) / len(tri) if tri else 0.0,
        used=tuple(used.values()),
    )


def flags_of(words: int, expected: int, rel: Relevance) -> frozenset[str]:
    flags: set[str] = set()
    if expected and words < TOO_SHORT_RATIO * expected:
        flags.add("too_short")
    if rel.coverage < OFF_TOPIC_COVERAGE and rel.on_prompt < OFF_TOPIC_ON_PROMPT:
        flags.add("off_topic")
    if rel.copied > COPIED_TRIGRAM_SHARE:
        flags.add("copied_prompt")
    return frozenset(flags)


def _next_band(score: float) -> tuple[str, float] | None:
    for name, cut in BANDS:
        if score < cut:
            return name, cut
    return None


def _quote(text: str, start: int, end: int) -> str:
    q = text[start:end].replace("\n", " ")
    return q if len(q) <= 60 else q[:57] + "..."


def _annotation(text: str, issue: Issue) -> Annotation:
    return Annotation(
        issue.start, issue.end, f"'{_quote(text, issue.start, issue.end)}': {issue.message}", issue.suggestion
    )


def _examples(text: str, issues: Sequence[Issue], k: int = 4) -> str:
    quoted = dict.fromkeys(f"'{_quote(text, i.start, i.end)}'" for i in issues)
    return ", ".join(list(quoted)[:k])


def _count(issues: Iterable[Issue], kinds: frozenset[str]) -> int:
    return sum(1 for i in issues if i.kind in kinds)


@dataclass(frozen=True, slots=True)
class RawScores:
    overall: float
    criteria: dict[str, float]
    """The profile: overall + each criterion model's deviation from the four's mean."""
    distance: float
    disagreement: float


def profile_in_range(overall: float, deviations: dict[str, float]) -> dict[str, float]:
    """``overall + deviation`` per criterion, the deviations shrunk just enough that every criterion
    fits on the 0..10 scale. Clipping instead would pull the mean of the criteria (what the learner
    and the routing see) away from the overall model's level: a strong essay whose Vocabulary and
    Grammar ran past 10 lost most of a band that way."""
    level = max(0.0, min(10.0, overall))
    shrink = 1.0
    for d in deviations.values():
        if d > 0:
            shrink = min(shrink, (10.0 - level) / d)
        elif d < 0:
            shrink = min(shrink, level / -d)
    return {c: level + shrink * d for c, d in deviations.items()}


def predict(model: FittedWritingModel, m: Measured) -> RawScores:
    """The model's unrounded estimates, before any rule."""
    z = model.standardise(m.values)
    overall = model.overall.score(z)
    crit = {c: model.criteria[c].score(z) for c in WRITING_CRITERIA}
    centre = statistics.fmean(crit.values())
    return RawScores(
        overall=overall,
        criteria=profile_in_range(overall, {c: v - centre for c, v in crit.items()}),
        distance=math.sqrt(math.fsum(v * v for v in z) / len(z)),
        # Two estimates of the level (all features at once; the four criterion models together)
        # that disagree make the level doubtful. An uneven profile does not: a strong writer just
        # over the task minimum has Task fulfilment well below Grammar, and that is the assessment.
        disagreement=abs(centre - overall),
    )


def near_minimum_floors(ratio: float, language: float) -> dict[str, float]:
    """The least Task fulfilment and Organisation score for an answer at ``ratio`` of the task's
    minimum whose language (mean of its Vocabulary and Grammar, before the caps) is at ``language``.

    The Task-fulfilment and Organisation models learnt from the corpus that short essays come from
    weak writers, so below the minimum they fall to 0-1 whatever the language. A rater penalises an
    under-length answer but not to nothing when it is well written: between 60% of the minimum and
    the minimum, an answer whose language is good (:data:`GOOD_LANGUAGE`) keeps these two criteria
    within a length penalty of it (:data:`NEAR_MINIMUM_PENALTY`). The caps still apply afterwards
    (Task fulfilment at most 5 under the minimum; nothing above 5.5 under 80% of it), a floor is at
    most :data:`NEAR_MINIMUM_FLOOR_MAX`, and under 60%
    (``too_short``) and for weaker language there is no floor.
    """
    if ratio >= 1.0 or ratio < TOO_SHORT_RATIO or language < GOOD_LANGUAGE:
        return {}
    return {
        c: min(NEAR_MINIMUM_FLOOR_MAX, language - piecewise(ratio, knots))
        for c, knots in NEAR_MINIMUM_PENALTY.items()
    }


def _confidence(model: FittedWritingModel, raw: RawScores, flags: frozenset[str], words: int) -> float:
    c = MAX_CONFIDENCE
    # far from the essays the model was fitted on: its estimate is an extrapolation
    span = max(1e-6, model.distance_p99 - model.distance_p50)
    c -= 0.25 * min(1.0, max(0.0, (raw.distance - model.distance_p50) / span))
    if raw.distance > model.distance_p99:
        c -= 0.15
    # the criterion models disagree with the overall model
    c -= 0.2 * min(1.0, max(0.0, raw.disagreement - MODEL_DISAGREEMENT) / MODEL_DISAGREEMENT)
    if words < 100:
        c -= 0.1
    # off_topic costs more than MAX_CONFIDENCE - LOW_CONFIDENCE_BELOW: an off-topic grade is never
    # even half-confident, so hybrid routing always sends it as low_confidence + off_topic
    for flag, cost in (("too_short", 0.3), ("off_topic", 0.4), ("copied_prompt", 0.3)):
        if flag in flags:
            c -= cost
    return round(max(0.05, min(MAX_CONFIDENCE, c)), 2)


def _lift(criterion: str, score: float, m: Measured, rel: Relevance, expected: int, part: str) -> str:
    nb = _next_band(score)
    if nb is None:
        return "To stay at C1: keep this range and accuracy across the whole answer."
    name, cut = nb
    head = f"To reach {name} ({cut:.1f}) in this criterion: "
    issues = m.issues
    if criterion == "task_fulfilment":
        if m.word_count < expected:
            return head + f"write at least {expected - m.word_count} more words, developing each point."
        if rel.coverage < 0.4:
            return head + "answer every part of the task directly, using its key ideas."
        return (
            head
            + "extend each main idea with a reason and a concrete example, and end with a clear conclusion."
        )
    if criterion == "organisation":
        want = EXPECTED_PARAGRAPHS.get(part, 3)
        if m.paragraphs < want:
            return (
                head + f"organise the answer in {want} paragraphs (opening, one idea per body paragraph, "
                "ending)."
            )
        if len(m.cohesion_devices) < 5:
            return (
                head + "link ideas with a wider range of devices "
                "(however, as a result, for instance, in contrast)."
            )
        return (
            head + "make each paragraph open with its main idea and refer back with "
            "this/these/such instead of repeating."
        )
    if criterion == "vocabulary":
        spelling = _count(issues, frozenset({"spelling"}))
        if spelling >= 3:
            return (
                head + f"correct the {spelling} spelling errors marked; check every word you are unsure of."
            )
        if m.values["rare"] < 0.15:
            return (
                head
                + "replace very common words (good, bad, thing, a lot) with more precise ones on the topic."
            )
        return (
            head
            + "use topic collocations and less common words accurately, and avoid repeating the same word."
        )
    if criterion == "grammar":
        errors = _count(issues, GRAMMAR_KINDS) + _count(issues, frozenset({"run_on"}))
        mech = _count(issues, MECHANICS_KINDS)
        if errors:
            return (
                head + f"fix the {errors} sentence-grammar problems marked "
                "(agreement, verb forms, articles, run-ons)."
            )
        if mech >= 2:
            return head + f"fix the {mech} capitalisation and punctuation slips marked."
        if m.values["subordination"] < 0.8:
            return (
                head + "mix simple sentences with complex ones (because, although, which, if) "
                "and keep them accurate."
            )
        return (
            head
            + "use a wider range of structures (conditionals, passives, relative clauses) without errors."
        )
    return head


def _criterion_feedback(
    criterion: str, text: str, m: Measured, rel: Relevance, expected: int
) -> tuple[str, tuple[Annotation, ...]]:
    issues = m.issues
    notes: list[str] = []
    ann: list[Annotation] = []
    if criterion == "task_fulfilment":
        notes.append(f"{m.word_count} words against a minimum of {expected}.")
        notes.append(f"You use {round(100 * rel.coverage)}% of the task's key words.")
        ann.extend(rel.used[:8])
        if m.word_count < expected and m.word_count:
            last = tokens_of(text)[-1]
            ann.append(
                Annotation(
                    last.start, last.end, f"The answer ends here, {expected - m.word_count} words short."
                )
            )
    elif criterion == "organisation":
        notes.append(f"{m.paragraphs} paragraph(s); {len(m.cohesion_devices)} different linking devices.")
        lowered = text.lower()
        for device in m.cohesion_devices[:8]:
            hit = re.search(rf"\b{re.escape(device)}\b", lowered)
            if hit:
                ann.append(
                    Annotation(hit.start(), hit.end(), f"'{text[hit.start() : hit.end()]}' links your ideas.")
                )
    elif criterion == "vocabulary":
        spelling = [i for i in issues if i.kind == "spelling"]
        notes.append(
            f"{len(spelling)} spelling error(s); "
            f"{round(100 * m.values['rare'])}% of content words are less common ones."
        )
        if spelling:
            notes.append(f"Check spelling: {_examples(text, spelling)}.")
        ann.extend(_annotation(text, i) for i in spelling)
        tokens = tokens_of(text)
        # a misspelt word is rare to wordfreq too, but it is not "well chosen"
        misspelt = {text[i.start : i.end].lower() for i in spelling}
        rare = set(m.rare_words[:6]) - misspelt
        counts: dict[str, int] = {}
        for t in tokens:
            if t.lower not in STOPWORDS and len(t.text) > 2:
                counts[t.lower] = counts.get(t.lower, 0) + 1
        seen: set[str] = set()
        for t in tokens:
            if t.lower in seen:
                continue
            if t.lower in rare:
                seen.add(t.lower)
                ann.append(Annotation(t.start, t.end, f"'{t.text}': a less common word, well chosen."))
            elif counts.get(t.lower, 0) >= REPEATED_WORD:
                seen.add(t.lower)
                msg = f"'{t.text}' is used {counts[t.lower]} times: vary it with synonyms or reference words."
                ann.append(Annotation(t.start, t.end, msg))
        for token, replacement, rate in m.risky:
            msg = (
                f"'{token.text}': often wrong in learners' writing; "
                f"raters changed it to '{replacement}' {round(100 * rate)}% of the time."
            )
            ann.append(Annotation(token.start, token.end, msg, replacement))
    elif criterion == "grammar":
        found = [i for i in issues if i.kind in GRAMMAR_KINDS | MECHANICS_KINDS | {"run_on"}]
        kinds: dict[str, int] = {}
        for i in found:
            kinds[i.kind] = kinds.get(i.kind, 0) + 1
        listed = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(kinds.items())) or "none found"
        notes.append(f"Problems found: {listed}. {m.sentence_count} sentence(s).")
        if found:
            notes.append(f"For example: {_examples(text, found)}.")
        ann.extend(_annotation(text, i) for i in found)
    ann.sort(key=lambda a: (a.start, a.end))
    return " ".join(notes), tuple(ann[:MAX_ANNOTATIONS])


def _summary(overall: float, results: Sequence[CriterionResult], flags: frozenset[str]) -> str:
    text = (
        f"Offline rubric estimate: overall {overall:.1f} ({cefr_label(overall)}). "
        f"{strongest_and_weakest(results)}"
    )
    notes = {
        "too_short": "The answer is far below the required length.",
        "off_topic": "The answer does not seem to address the task.",
        "copied_prompt": "Much of the answer repeats the task's wording.",
    }
    return " ".join([text, *(notes[f] for f in sorted(flags) if f in notes)])


def score_writing(task: TaskSpec, text: str, model: FittedWritingModel | None = None) -> Assessment:
    """Scores a Writing answer on the 4 VSTEP criteria with the fitted model."""
    model = model or fitted_model()
    expected = task.min_words or CORPUS_EXPECTED_WORDS
    allowed = frozenset(t.lower for t in tokens_of(task.prompt))
    m = measure(text, expected, model.lexicon, allowed)
    words = count_words(text)
    rel = relevance(text, task.prompt)
    flags = flags_of(words, expected, rel)
    raw = predict(model, m)
    values = dict(raw.criteria)
    ratio = words / expected if expected else 1.0
    floors = near_minimum_floors(ratio, statistics.fmean((values["vocabulary"], values["grammar"])))
    for c in WRITING_CRITERIA:
        v = max(values[c], floors.get(c, 0.0))
        if ratio < EVIDENCE_RATIO:
            v = min(v, EVIDENCE_CAP)
        if "too_short" in flags:
            v = min(v, TOO_SHORT_TF_CAP if c == "task_fulfilment" else TOO_SHORT_CAP)
        if c == "task_fulfilment" and ratio < 1.0:
            v = min(v, UNDER_MINIMUM_TF_CAP)
        if "off_topic" in flags or "copied_prompt" in flags:
            v = min(v, OFF_TOPIC_TF_CAP if c == "task_fulfilment" else OFF_TOPIC_CAP)
        values[c] = 0.0 if words == 0 else v
    results: list[CriterionResult] = []
    for c in WRITING_CRITERIA:
        score = to_grid(values[c])
        notes, ann = _criterion_feedback(c, text, m, rel, expected)
        lift = _lift(c, score, m, rel, expected, task.part)
        results.append(CriterionResult(c, score, f"{notes} {lift}", ann))
    scores = [r.score for r in results]
    overall = overall_score(scores)
    return Assessment(
        criteria=tuple(results),
        overall=overall,
        raw_mean=sum(scores) / len(scores),
        feedback=_summary(overall, results, flags),
        confidence=_confidence(model, raw, flags, words),
        provider=PROVIDER,
        model=MODEL,
        rubric_version=RUBRIC_VERSION,
        flags=flags,
    )
