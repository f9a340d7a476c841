"""The offline rubric scorer: deterministic text features mapped onto the VSTEP criteria.

No network and no key. It is a heuristic estimate, so its confidence never exceeds
:data:`MAX_CONFIDENCE`, and hybrid grading routes its doubtful cases to a human.

How it works, in three layers (all pure functions):

1. :func:`extract_features` measures the answer: length, paragraphs, sentences and their variety,
   cohesion devices, lexical diversity (moving-average type-token ratio), lexical density,
   sophistication (word length, long words, academic words), spelling (``pyspellchecker``'s offline
   English frequency list), simple grammar-error patterns, and relevance (how many of the prompt's
   content words the answer uses, and how much of the answer's content is on the prompt's words).
2. Each feature becomes a 0..10 *sub-score* through a piecewise-linear curve (:func:`interp`); the
   curves' anchor points are the constants below.
3. Each criterion is a weighted mean of sub-scores (:data:`WRITING_WEIGHTS`,
   :data:`SPEAKING_WEIGHTS`), then capped by hard rules (too short, off topic, copied prompt),
   then put on the 0.5 grid. The overall is the mean of the criteria, rounded half up.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from spellchecker import SpellChecker

from grader.contracts.constants import SPEAKING_CRITERIA
from grader.scoring.base import (
    Assessment,
    CriterionResult,
    ScoringError,
    TaskSpec,
    cefr_label,
    count_words,
    overall_score,
    to_grid,
)
from grader.scoring.lexicon import (
    ACADEMIC_WORDS,
    COHESION_DEVICES,
    FILLERS,
    INSTRUCTION_WORDS,
    STOPWORDS,
    SUBORDINATORS,
)
from grader.scoring.writing.features import warm_up
from grader.scoring.writing.scorer import score_writing as fitted_score_writing

RUBRIC_VERSION = "vstep-offline-1"
PROVIDER = "offline"
MODEL = "rubric-features-1"

# --- thresholds and weights (the whole policy of this scorer lives here) -------------------------

TOO_SHORT_RATIO = 0.6
"""Below 60% of the task's minimum words the answer is flagged ``too_short``."""
EVIDENCE_RATIO = 0.8
"""Below 80% of the minimum, every criterion is capped: there is too little language to judge."""
TOO_SHORT_CAP = 4.0
"""VSTEP: an answer far below the length requirement gets at most 4 for task fulfilment."""
OFF_TOPIC_CAP = 2.0
COPIED_PROMPT_CAP = 2.0
OFF_TOPIC_COVERAGE = 0.1
"""Off topic: fewer than 10% of the prompt's content words used ...
"""
OFF_TOPIC_ON_PROMPT = 0.06
"""... and fewer than 6% of the answer's content words taken from the prompt."""
COPIED_TRIGRAM_SHARE = 0.5
"""More than half of the answer's word trigrams appear in the prompt: it copies the prompt."""
MATTR_WINDOW = 50
SPEAKING_EXPECTED_WORDS = {"speaking_part_1": 180, "speaking_part_2": 200, "speaking_part_3": 250}
DEFAULT_EXPECTED_WORDS = 150
EXPECTED_PARAGRAPHS = {"writing_task_1": 3, "writing_task_2": 4}

MAX_CONFIDENCE = 0.85
SPEAKING_MAX_CONFIDENCE = 0.55
"""Pronunciation cannot be judged from a transcript, so a speaking grade is never confident."""

WRITING_WEIGHTS: dict[str, dict[str, float]] = {
    "task_fulfilment": {"length": 0.4, "relevance": 0.4, "development": 0.2},
    "organisation": {
        "paragraphing": 0.35,
        "cohesion_range": 0.35,
        "cohesion_density": 0.15,
        "sentence_fit": 0.15,
    },
    "vocabulary": {"diversity": 0.3, "density": 0.15, "sophistication": 0.3, "spelling": 0.25},
    "grammar": {"accuracy": 0.45, "complexity": 0.3, "variety": 0.25},
}
SPEAKING_WEIGHTS: dict[str, dict[str, float]] = {
    "grammar": {"accuracy": 0.45, "complexity": 0.3, "variety": 0.25},
    "vocabulary": {"diversity": 0.4, "density": 0.2, "sophistication": 0.4},
    "fluency": {"length": 0.4, "fillers": 0.3, "repetition": 0.15, "run_length": 0.15},
    "discourse_management": {"cohesion_range": 0.4, "relevance": 0.4, "development": 0.2},
}

# Piecewise-linear curves: (feature value, sub-score) anchor points, sorted by value.
LENGTH_CURVE = ((0.0, 0.0), (0.3, 2.0), (0.6, 5.0), (0.8, 7.0), (1.0, 9.0), (1.3, 10.0))
COVERAGE_CURVE = ((0.0, 0.0), (0.1, 3.0), (0.25, 6.5), (0.5, 9.0), (0.75, 10.0))
COHESION_RANGE_CURVE = ((0.0, 1.0), (2.0, 4.0), (5.0, 7.5), (8.0, 10.0))
COHESION_DENSITY_CURVE = ((0.0, 2.0), (1.0, 7.0), (2.0, 10.0), (6.0, 10.0), (10.0, 5.0), (15.0, 2.0))
SENTENCE_LENGTH_CURVE = ((3.0, 2.0), (8.0, 6.0), (12.0, 10.0), (24.0, 10.0), (35.0, 6.0), (50.0, 3.0))
MATTR_CURVE = ((0.5, 1.0), (0.62, 4.0), (0.75, 7.0), (0.85, 9.0), (0.92, 10.0))
DENSITY_CURVE = ((0.25, 2.0), (0.35, 5.0), (0.45, 8.0), (0.55, 10.0))
WORD_LENGTH_CURVE = ((3.5, 2.0), (4.0, 5.0), (4.5, 7.5), (5.0, 10.0))
LONG_WORD_CURVE = ((0.05, 2.0), (0.12, 5.0), (0.2, 8.0), (0.28, 10.0))
ACADEMIC_CURVE = ((0.0, 2.0), (2.0, 5.0), (5.0, 8.0), (9.0, 10.0))
SPELLING_CURVE = ((0.0, 10.0), (1.0, 8.5), (3.0, 6.0), (6.0, 3.0), (10.0, 1.0))
"""Misspelled words per 100 words -> sub-score."""
GRAMMAR_ERROR_CURVE = ((0.0, 9.5), (0.5, 8.0), (1.5, 6.0), (3.0, 4.0), (6.0, 1.5))
"""Grammar-pattern hits per 100 words -> sub-score (patterns catch few errors, so 0 is not 10)."""
COMPLEX_RATIO_CURVE = ((0.0, 2.0), (0.2, 5.0), (0.4, 8.0), (0.6, 10.0))
SUBORDINATOR_RATE_CURVE = ((0.0, 2.0), (1.5, 5.0), (3.5, 8.0), (5.0, 10.0))
VARIETY_CURVE = ((0.0, 2.0), (2.0, 4.0), (4.5, 7.5), (7.0, 10.0))
"""Standard deviation of sentence lengths (words) -> sub-score."""
FILLER_CURVE = ((0.0, 10.0), (2.0, 8.0), (5.0, 5.0), (10.0, 2.0))
REPETITION_CURVE = ((0.0, 10.0), (1.0, 7.5), (3.0, 4.0), (6.0, 1.0))
RUN_LENGTH_CURVE = ((2.0, 2.0), (5.0, 5.0), (10.0, 8.0), (20.0, 10.0))

CRITERION_LABELS = {
    "task_fulfilment": "Task fulfilment",
    "organisation": "Organisation",
    "vocabulary": "Vocabulary",
    "grammar": "Grammar",
    "pronunciation": "Pronunciation",
    "fluency": "Fluency",
    "discourse_management": "Discourse management",
}

# --- features ---------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_PARAGRAPH_SPLIT = re.compile(r"\n\s*\n")
_GRAMMAR_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("subject-verb agreement", re.compile(r"\b(?:he|she|it) (?:have|do|are|don't)\b")),
    ("subject-verb agreement", re.compile(r"\b(?:you|we|they) (?:is|was|has|does|doesn't)\b")),
    ("subject-verb agreement", re.compile(r"\bi (?:is|are|has|does|doesn't)\b")),
    ("subject-verb agreement", re.compile(r"\b(?:people|children|students|workers) (?:is|was|has|does)\b")),
    ("article", re.compile(r"\ba (?=[aeio][a-z])(?!one\b|once\b|eu)")),
    ("article", re.compile(r"\ban (?=[bcdfgjklmnpqrstvwxyz])(?!hour|honest|honou|heir)")),
    ("modal + to", re.compile(r"\b(?:can|could|must|should|might|would|will) to\b")),
    ("double comparative", re.compile(r"\bmore (?:better|worse|bigger|easier|cheaper|faster|larger)\b")),
    ("past after did", re.compile(r"\b(?:didn't|did not) \w+(?<!e)ed\b")),
    ("verb form after to", re.compile(r"\bto (?:went|goes|does|did|was|made|took)\b")),
)


@dataclass(frozen=True, slots=True)
class TextFeatures:
    """Everything the scorer measures in one answer (see :func:`extract_features`)."""

    word_count: int
    sentence_count: int
    paragraph_count: int
    mean_sentence_length: float
    sentence_length_sd: float
    complex_sentence_ratio: float
    subordinators_per_100: float
    cohesion_devices: tuple[str, ...]
    cohesion_per_100: float
    mattr: float
    lexical_density: float
    mean_word_length: float
    long_word_ratio: float
    academic_words: tuple[str, ...]
    misspelled: tuple[str, ...]
    misspelled_per_100: float
    grammar_errors: tuple[str, ...]
    grammar_errors_per_100: float
    prompt_coverage: float
    on_prompt_share: float
    prompt_keywords_used: tuple[str, ...]
    copied_trigram_share: float
    fillers_per_100: float
    repetitions_per_100: float
    mean_run_length: float


def words_of(text: str) -> list[str]:
    """The word tokens of a text, as written."""
    return _WORD.findall(text)


def stem(word: str) -> str:
    """A crude, consistent suffix stripper, enough to match 'employees' with 'employee'."""
    w = word.lower()
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: len(w) - len(suffix)] + repl
    return w


def content_stems(words: Sequence[str]) -> list[str]:
    """Stems of the content words (no stopwords, no one- or two-letter words)."""
    return [stem(w) for w in (x.lower() for x in words) if w not in STOPWORDS and len(w) > 2]


def interp(x: float, points: Sequence[tuple[float, float]]) -> float:
    """Piecewise-linear interpolation through ``points``, flat beyond both ends."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def mattr(tokens: Sequence[str], window: int = MATTR_WINDOW) -> float:
    """Moving-average type-token ratio: lexical diversity that does not fall with length."""
    if not tokens:
        return 0.0
    if len(tokens) <= window:
        return len(set(tokens)) / len(tokens)
    ratios = [len(set(tokens[i : i + window])) / window for i in range(len(tokens) - window + 1)]
    return sum(ratios) / len(ratios)


@cache
def _spellchecker() -> SpellChecker:
    return SpellChecker(language="en")


def misspellings(words: Sequence[str], allowed: frozenset[str] = frozenset()) -> list[str]:
    """Words not in the English frequency list. Capitalised words (names) and contractions are skipped."""
    candidates = [w.lower() for w in words if w.islower() and "'" not in w and w.lower() not in allowed]
    if not candidates:
        return []
    checker = _spellchecker()
    unknown = checker.unknown(candidates)
    unknown = {w for w in unknown if not checker.known([american_spelling(w)])}
    return [w for w in candidates if w in unknown]


_BRITISH = (
    (re.compile(r"is(e|ed|es|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"ys(e|ed|es|ing)$"), r"yz\1"),
    (re.compile(r"our(s|ed|ing|ite|ites|able)?$"), r"or\1"),
    (re.compile(r"tre(s)?$"), r"ter\1"),
    (re.compile(r"ll(ed|ing|er|ers)$"), r"l\1"),
    (re.compile(r"^wellbeing$"), "well"),
)


def american_spelling(word: str) -> str:
    """Maps common British spellings (organise, colour, centre, travelled) to the American list's form."""
    for pattern, repl in _BRITISH:
        if pattern.search(word):
            return pattern.sub(repl, word)
    return word


def _paragraphs(text: str) -> int:
    blocks = [b for b in _PARAGRAPH_SPLIT.split(text.strip()) if words_of(b)]
    if len(blocks) <= 1:
        lines = [line for line in text.splitlines() if words_of(line)]
        return max(len(lines), 1 if blocks else 0)
    return len(blocks)


def _per_100(count: int, total: int) -> float:
    return 100.0 * count / total if total else 0.0


def extract_features(text: str, prompt: str) -> TextFeatures:
    """Measures one answer against its prompt. Pure and deterministic."""
    words = words_of(text)
    lower = [w.lower() for w in words]
    n = count_words(text)
    sentences = [s for s in _SENTENCE_SPLIT.split(text.strip()) if words_of(s)]
    lengths = [len(words_of(s)) for s in sentences]
    complex_count = sum(1 for s in sentences if any(w.lower() in SUBORDINATORS for w in words_of(s)))
    subordinators = sum(1 for w in lower if w in SUBORDINATORS)

    flat = " " + " ".join(lower) + " "
    devices = tuple(d for d in COHESION_DEVICES if f" {d} " in flat)
    device_uses = sum(flat.count(f" {d} ") for d in devices)

    content = [w for w in lower if w not in STOPWORDS and len(w) > 2]
    stems = content_stems(words)
    academic = tuple(sorted({w for w in lower if w in ACADEMIC_WORDS or stem(w) in ACADEMIC_WORDS}))

    prompt_words = words_of(prompt)
    prompt_lower = frozenset(w.lower() for w in prompt_words)
    prompt_keys = {s for s in content_stems(prompt_words) if s not in INSTRUCTION_WORDS}
    used_keys = tuple(sorted(prompt_keys.intersection(stems)))
    coverage = len(used_keys) / len(prompt_keys) if prompt_keys else 1.0
    on_prompt = sum(1 for s in stems if s in prompt_keys) / len(stems) if stems else 0.0

    prompt_trigrams = set(zip(*(list(w.lower() for w in prompt_words)[i:] for i in range(3)), strict=False))
    trigrams = list(zip(lower, lower[1:], lower[2:], strict=False))
    copied = sum(1 for t in trigrams if t in prompt_trigrams) / len(trigrams) if trigrams else 0.0

    misspelled = misspellings([w for w in words if w.lower() not in FILLERS], prompt_lower)
    lowered_text = " ".join(lower)
    grammar_hits = [name for name, pattern in _GRAMMAR_PATTERNS for _ in pattern.finditer(lowered_text)]
    grammar_hits += ["capitalisation"] * sum(1 for s in sentences if s.lstrip()[:1].islower())
    grammar_hits += ["capitalisation"] * sum(1 for w in words if w == "i")

    fillers = sum(1 for w in lower if w in FILLERS)
    repetitions = sum(1 for a, b in itertools.pairwise(lower) if a == b and a not in {"that", "had"})
    runs: list[int] = []
    run = 0
    for w in lower:
        if w in FILLERS:
            if run:
                runs.append(run)
            run = 0
        else:
            run += 1
    if run:
        runs.append(run)

    return TextFeatures(
        word_count=n,
        sentence_count=len(sentences),
        paragraph_count=_paragraphs(text),
        mean_sentence_length=statistics.fmean(lengths) if lengths else 0.0,
        sentence_length_sd=statistics.pstdev(lengths) if len(lengths) > 1 else 0.0,
        complex_sentence_ratio=complex_count / len(sentences) if sentences else 0.0,
        subordinators_per_100=_per_100(subordinators, n),
        cohesion_devices=devices,
        cohesion_per_100=_per_100(device_uses, n),
        mattr=mattr(lower),
        lexical_density=len(content) / n if n else 0.0,
        mean_word_length=statistics.fmean(len(w) for w in words) if words else 0.0,
        long_word_ratio=sum(1 for w in words if len(w) >= 7) / n if n else 0.0,
        academic_words=academic,
        misspelled=tuple(misspelled),
        misspelled_per_100=_per_100(len(misspelled), n),
        grammar_errors=tuple(grammar_hits),
        grammar_errors_per_100=_per_100(len(grammar_hits), n),
        prompt_coverage=coverage,
        on_prompt_share=on_prompt,
        prompt_keywords_used=used_keys,
        copied_trigram_share=copied,
        fillers_per_100=_per_100(fillers, n),
        repetitions_per_100=_per_100(repetitions, n),
        mean_run_length=statistics.fmean(runs) if runs else 0.0,
    )


# --- sub-scores ---------------------------------------------------------------------------------------


def _weighted(weights: dict[str, float], subs: dict[str, float]) -> float:
    return sum(weight * subs[name] for name, weight in weights.items()) / sum(weights.values())


def _sophistication(f: TextFeatures) -> float:
    return statistics.fmean(
        (
            interp(f.mean_word_length, WORD_LENGTH_CURVE),
            interp(f.long_word_ratio, LONG_WORD_CURVE),
            interp(len(f.academic_words), ACADEMIC_CURVE),
        )
    )


def sub_scores(f: TextFeatures, task: TaskSpec, expected_words: int) -> dict[str, float]:
    """Every feature on a 0..10 scale, keyed by the names the weight tables use."""
    ratio = f.word_count / expected_words if expected_words else 1.0
    expected_paragraphs = EXPECTED_PARAGRAPHS.get(task.part, 1)
    expected_sentences = max(3, expected_words // 20)
    development = statistics.fmean(
        (
            interp(f.paragraph_count, ((0, 0.0), (1, 3.0), (expected_paragraphs, 10.0)))
            if task.skill == "writing"
            else interp(f.sentence_count, ((0, 0.0), (expected_sentences, 10.0))),
            interp(f.sentence_count, ((0, 0.0), (expected_sentences, 10.0))),
        )
    )
    return {
        "length": interp(ratio, LENGTH_CURVE),
        "relevance": interp(f.prompt_coverage, COVERAGE_CURVE),
        "development": development,
        "paragraphing": interp(f.paragraph_count, ((0, 0.0), (1, 2.0), (expected_paragraphs, 10.0))),
        "cohesion_range": interp(len(f.cohesion_devices), COHESION_RANGE_CURVE),
        "cohesion_density": interp(f.cohesion_per_100, COHESION_DENSITY_CURVE),
        "sentence_fit": interp(f.mean_sentence_length, SENTENCE_LENGTH_CURVE),
        "diversity": interp(f.mattr, MATTR_CURVE),
        "density": interp(f.lexical_density, DENSITY_CURVE),
        "sophistication": _sophistication(f),
        "spelling": interp(f.misspelled_per_100, SPELLING_CURVE),
        "accuracy": interp(f.grammar_errors_per_100, GRAMMAR_ERROR_CURVE),
        "complexity": (
            interp(f.complex_sentence_ratio, COMPLEX_RATIO_CURVE)
            if task.skill == "writing"
            else interp(f.subordinators_per_100, SUBORDINATOR_RATE_CURVE)
        ),
        "variety": interp(f.sentence_length_sd, VARIETY_CURVE),
        "fillers": interp(f.fillers_per_100, FILLER_CURVE),
        "repetition": interp(f.repetitions_per_100, REPETITION_CURVE),
        "run_length": interp(f.mean_run_length, RUN_LENGTH_CURVE),
    }


def flags_of(f: TextFeatures, expected_words: int) -> frozenset[str]:
    """Hard flags: ``too_short``, ``off_topic``, ``copied_prompt``."""
    flags: set[str] = set()
    if expected_words and f.word_count < TOO_SHORT_RATIO * expected_words:
        flags.add("too_short")
    if f.prompt_coverage < OFF_TOPIC_COVERAGE and f.on_prompt_share < OFF_TOPIC_ON_PROMPT:
        flags.add("off_topic")
    if f.copied_trigram_share > COPIED_TRIGRAM_SHARE:
        flags.add("copied_prompt")
    return frozenset(flags)


# --- feedback -------------------------------------------------------------------------------------------


def _examples(items: Sequence[str], k: int = 4) -> str:
    seen = list(dict.fromkeys(items))[:k]
    return ", ".join(f"'{x}'" for x in seen)


def _feedback(criterion: str, f: TextFeatures, task: TaskSpec, expected_words: int) -> str:
    parts: list[str] = []
    if criterion == "task_fulfilment":
        parts.append(f"{f.word_count} words against a minimum of {expected_words}.")
        if f.word_count < expected_words:
            parts.append("Develop your ideas further to reach the required length.")
        parts.append(f"You address {round(100 * f.prompt_coverage)}% of the prompt's key ideas")
        parts[-1] += f" ({_examples(f.prompt_keywords_used)})." if f.prompt_keywords_used else "."
        if f.prompt_coverage < 0.25:
            parts.append("Answer every point of the task directly.")
    elif criterion == "organisation":
        parts.append(f"{f.paragraph_count} paragraph(s); aim for {EXPECTED_PARAGRAPHS.get(task.part, 3)}.")
        if f.cohesion_devices:
            parts.append(f"Linking devices used: {_examples(f.cohesion_devices, 5)}.")
        if len(f.cohesion_devices) < 4:
            parts.append("Use a wider range of linkers (however, as a result, for instance, in conclusion).")
        if f.cohesion_per_100 > 8:
            parts.append("Linkers are overused; let ideas connect naturally too.")
    elif criterion == "vocabulary":
        parts.append(f"Lexical diversity {f.mattr:.2f} (moving type-token ratio).")
        if f.academic_words:
            parts.append(f"Good topic/academic words: {_examples(f.academic_words)}.")
        else:
            parts.append("Try more precise, topic-specific vocabulary.")
        if f.misspelled:
            parts.append(f"Check spelling: {_examples(f.misspelled)}.")
        if f.mattr < 0.6:
            parts.append("Avoid repeating the same words; use synonyms.")
    elif criterion == "grammar":
        parts.append(
            f"{f.sentence_count} sentences, "
            f"{round(100 * f.complex_sentence_ratio)}% with a subordinate clause."
        )
        if f.grammar_errors:
            parts.append(f"Likely errors: {_examples(f.grammar_errors, 3)}.")
        if f.complex_sentence_ratio < 0.3:
            parts.append("Combine ideas with because/although/which to show a range of structures.")
        if f.sentence_length_sd < 3:
            parts.append("Vary your sentence length.")
    elif criterion == "fluency":
        parts.append(f"{f.word_count} words against about {expected_words} expected for this part.")
        if f.fillers_per_100 > 2:
            parts.append(f"{f.fillers_per_100:.1f} filled pauses (um, uh) per 100 words; reduce hesitation.")
        if f.repetitions_per_100 > 1:
            parts.append("Some words are repeated back to back (self-repairs).")
    elif criterion == "discourse_management":
        parts.append(f"You address {round(100 * f.prompt_coverage)}% of the questions' key ideas.")
        if len(f.cohesion_devices) < 3:
            parts.append("Connect your ideas with linkers and extend answers with reasons and examples.")
        else:
            parts.append(f"Linking: {_examples(f.cohesion_devices, 4)}.")
    elif criterion == "pronunciation":
        parts.append(
            "Not assessed from audio: estimated from the transcript only, so a teacher should confirm it."
        )
    return " ".join(parts)


# --- the scorer -----------------------------------------------------------------------------------------


def _confidence(flags: frozenset[str], f: TextFeatures, scores: Sequence[float], cap: float) -> float:
    c = MAX_CONFIDENCE
    if f.word_count < 100:
        c -= 0.15
    if "too_short" in flags:
        c -= 0.3
    if "off_topic" in flags:
        c -= 0.35
    if "copied_prompt" in flags:
        c -= 0.3
    if max(scores) - min(scores) > 3:
        c -= 0.1
    if f.misspelled_per_100 > 10:
        c -= 0.15
    return round(max(0.05, min(cap, c)), 2)


def _summary(overall: float, results: Sequence[CriterionResult], flags: frozenset[str]) -> str:
    best = max(results, key=lambda r: r.score)
    worst = min(results, key=lambda r: r.score)
    text = (
        f"Offline rubric estimate: overall {overall:.1f} ({cefr_label(overall)}). "
        f"Strongest: {CRITERION_LABELS[best.criterion]} ({best.score:.1f}); "
        f"focus on: {CRITERION_LABELS[worst.criterion]} ({worst.score:.1f})."
    )
    notes = {
        "too_short": "The answer is far below the required length.",
        "off_topic": "The answer does not seem to address the task.",
        "copied_prompt": "Much of the answer repeats the task's wording.",
        "pronunciation_not_assessed": "Pronunciation was not assessed from audio.",
    }
    return " ".join([text, *(notes[flag] for flag in sorted(flags) if flag in notes)])


def score_writing(task: TaskSpec, text: str) -> Assessment:
    """Scores a Writing answer on the 4 VSTEP criteria with the fitted model
    (:mod:`grader.scoring.writing.scorer`)."""
    return fitted_score_writing(task, text)


def score_speaking_transcript(task: TaskSpec, transcript: str) -> Assessment:
    """Scores a Speaking answer from its transcript on the 5 VSTEP criteria.

    Pronunciation cannot be heard in text: it is estimated as the mean of the other criteria,
    flagged ``pronunciation_not_assessed``, and the confidence is capped low.
    """
    f = extract_features(transcript, task.prompt)
    expected = task.min_words or SPEAKING_EXPECTED_WORDS.get(task.part, DEFAULT_EXPECTED_WORDS)
    subs = sub_scores(f, task, expected)
    flags = flags_of(f, expected) | {"pronunciation_not_assessed"}
    evidence_cap = (
        10.0
        if f.word_count >= EVIDENCE_RATIO * expected
        else 3 + 7 * f.word_count / (EVIDENCE_RATIO * expected)
    )
    raw: dict[str, float] = {}
    for criterion, weights in SPEAKING_WEIGHTS.items():
        value = min(_weighted(weights, subs), evidence_cap)
        if criterion == "discourse_management" and "off_topic" in flags:
            value = min(value, OFF_TOPIC_CAP)
        raw[criterion] = value
    raw["pronunciation"] = statistics.fmean(raw[c] for c in ("grammar", "vocabulary", "fluency"))
    if f.word_count == 0:
        raw = dict.fromkeys(SPEAKING_CRITERIA, 0.0)
    ordered = {c: raw[c] for c in SPEAKING_CRITERIA}
    return _assemble(task, f, ordered, flags, expected, SPEAKING_MAX_CONFIDENCE, transcript=transcript)


def _assemble(
    task: TaskSpec,
    f: TextFeatures,
    raw: dict[str, float],
    flags: frozenset[str],
    expected: int,
    confidence_cap: float,
    transcript: str | None,
) -> Assessment:
    results = tuple(
        CriterionResult(criterion=c, score=to_grid(v), feedback=_feedback(c, f, task, expected))
        for c, v in raw.items()
    )
    scores = [r.score for r in results]
    overall = overall_score(scores)
    return Assessment(
        criteria=results,
        overall=overall,
        raw_mean=sum(scores) / len(scores),
        feedback=_summary(overall, results, flags),
        confidence=_confidence(flags, f, scores, confidence_cap),
        provider=PROVIDER,
        model=MODEL,
        rubric_version=RUBRIC_VERSION,
        flags=flags,
        transcript=transcript,
    )


class OfflineScorer:
    """The default grading provider: :func:`score_writing` / :func:`score_speaking_transcript`."""

    provider = PROVIDER

    def __init__(self) -> None:
        warm_up()  # load the word tables now, not on the first essay

    def score(self, task: TaskSpec, answer_text: str | None) -> Assessment:
        text = (answer_text or "").strip()
        if task.skill == "writing":
            if answer_text is None:
                raise ScoringError("no_answer_text", "a writing submission has no answer text")
            return score_writing(task, text)
        if not text:
            raise ScoringError(
                "transcription_unavailable",
                "a speaking submission needs a transcript; the offline provider cannot transcribe audio",
            )
        return score_speaking_transcript(task, text)
