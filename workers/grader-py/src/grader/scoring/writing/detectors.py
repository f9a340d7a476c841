"""Rule-based error detectors. Each problem found carries its character span in the answer.

The rules are written for this project and kept conservative: a false alarm costs a learner's trust
more than a missed error, and the learned word-error lexicon (:mod:`grader.scoring.writing.model`)
covers much of what rules miss. Kinds: ``agreement``, ``verb_form``, ``article``, ``run_on``,
``capitalisation``, ``punctuation``, ``spelling``, ``word_choice``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from spellchecker import SpellChecker

from grader.scoring.lexicon import COHESION_DEVICES
from grader.scoring.writing.text import Sentence, Token


@dataclass(frozen=True, slots=True)
class Issue:
    kind: str
    start: int
    end: int
    message: str
    suggestion: str | None = None


_THIRD_SINGULAR = frozenset({"he", "she", "it", "this", "that", "everyone", "everybody", "nobody", "someone"})
_NON_THIRD = frozenset({"i", "you", "we", "they"})
_AUX_BEFORE_SUBJECT = frozenset(
    """did does do will would can could should must might may let make makes made help helps to not
    doesn't didn't don't won't can't couldn't shouldn't""".split()
)
BASE_VERBS = frozenset(
    """go like want think need make take play live work study know say get come see feel love enjoy prefer
    help give find use try become keep start seem look hope spend buy visit believe mean leave bring
    understand teach learn watch read write travel cook eat drink sleep stay run walk agree""".split()
)
_IRREGULAR_PAST = {
    "went": "go", "came": "come", "took": "take", "made": "make", "gave": "give", "saw": "see",
    "bought": "buy", "thought": "think", "found": "find", "got": "get", "wrote": "write", "ate": "eat",
    "began": "begin", "knew": "know", "felt": "feel", "left": "leave", "brought": "bring", "taught": "teach",
}  # fmt: skip
_PARTICIPLE = {"go": "gone", "went": "gone", "come": "come", "came": "come", "take": "taken", "took": "taken",
               "see": "seen", "saw": "seen", "eat": "eaten", "ate": "eaten", "write": "written",
               "wrote": "written", "give": "given", "gave": "given", "begin": "begun", "began": "begun",
               "know": "known", "knew": "known", "do": "done", "did": "done", "be": "been"}  # fmt: skip
_MODALS = frozenset("can could must should might would will may shall".split())
_UNCOUNTABLE = frozenset(
    "advice information furniture homework news equipment knowledge research luggage baggage".split()
)
_PLURAL_NOUNS = frozenset(
    "people children students workers parents teenagers families friends companies employees".split()
)
_PROPER_LOWER = {
    "english": "English", "vietnamese": "Vietnamese", "monday": "Monday", "tuesday": "Tuesday",
    "wednesday": "Wednesday", "thursday": "Thursday", "friday": "Friday", "saturday": "Saturday",
    "sunday": "Sunday", "january": "January", "february": "February", "april": "April", "june": "June",
    "july": "July", "august": "August", "september": "September", "october": "October",
    "november": "November", "december": "December", "vietnam": "Vietnam", "internet": "Internet",
}  # fmt: skip
_SUBORDINATE_OPENERS = frozenset(
    "if when although though because as while since after before unless once whenever whether".split()
)
_CLAUSE_START = re.compile(
    r",\s+(?P<subj>i|you|he|she|it|we|they|this|there)\s+"
    r"(?P<verb>am|is|are|was|were|have|has|had|will|can|could|would|should|must|do|does|did)\b",
    re.IGNORECASE,
)
_SPACE_BEFORE = re.compile(r"[ \t]+(?P<p>[,.;:!?])(?=\s|$)")
_NO_SPACE_AFTER = re.compile(r"(?<=[a-z]{2})(?P<p>[,;:])(?=[A-Za-z])|(?<=[a-z]{3})(?P<q>[.!?])(?=[A-Z][a-z])")
_HOWEVER_MID = re.compile(r"(?<=[a-z] )however(?= [a-z])")
_DOUBLED = re.compile(r"\b(?P<w>[A-Za-z]+) (?P=w)\b", re.IGNORECASE)
RUN_ON_WORDS = 45
"""A sentence this long with no comma, semicolon, colon or dash is a run-on."""


def _issue(kind: str, start: int, end: int, message: str, suggestion: str | None = None) -> Issue:
    return Issue(kind, start, end, message, suggestion)


def _pairs(tokens: list[Token], text: str) -> Iterable[tuple[Token | None, Token, Token]]:
    """(previous, current, next) token triples whose current and next are in one clause."""
    for i in range(len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        gap = text[a.end : b.start]
        if gap.strip():  # punctuation between the two words: not adjacent
            continue
        yield (tokens[i - 1] if i and not text[tokens[i - 1].end : a.start].strip() else None), a, b


def agreement_and_verb_form(tokens: list[Token], text: str) -> list[Issue]:
    """Subject-verb agreement and verb forms after modals, 'to', 'did', 'have' and 3rd-person subjects."""
    out: list[Issue] = []
    for prev, a, b in _pairs(tokens, text):
        x, y = a.lower, b.lower
        before = prev.lower if prev else ""
        if x in _THIRD_SINGULAR and before not in _AUX_BEFORE_SUBJECT and x not in ("that", "this"):
            if y in ("have", "do", "are", "were", "don't"):
                fix = {"have": "has", "do": "does", "are": "is", "were": "was", "don't": "doesn't"}[y]
                out.append(_issue("agreement", b.start, b.end, f"'{a.text}' takes '{fix}'.", fix))
            elif y in BASE_VERBS and before not in ("the", "a", "and", "or"):
                fix = y + ("es" if y.endswith(("o", "ch", "sh", "s", "x")) else "s")
                if y.endswith("y") and y[-2] not in "aeiou":
                    fix = y[:-1] + "ies"
                out.append(_issue("agreement", b.start, b.end, f"After '{a.text}' the verb needs -s.", fix))
        elif x in _NON_THIRD and before not in _AUX_BEFORE_SUBJECT:
            fixes = {"is": "are", "was": "were", "has": "have", "does": "do", "doesn't": "don't"}
            if x == "i":
                fixes = {"is": "am", "are": "am", "has": "have", "does": "do", "doesn't": "don't"}
            if y in fixes:
                out.append(_issue("agreement", b.start, b.end, f"'{a.text}' takes '{fixes[y]}'.", fixes[y]))
        elif x in _PLURAL_NOUNS and y in ("is", "was", "has", "does", "doesn't") and before != "of":
            fix = {"is": "are", "was": "were", "has": "have", "does": "do", "doesn't": "don't"}[y]
            out.append(_issue("agreement", b.start, b.end, f"'{a.text}' is plural: use '{fix}'.", fix))
        elif x in ("everyone", "everybody", "nobody") and y in ("are", "have", "were"):
            fix = {"are": "is", "have": "has", "were": "was"}[y]
            out.append(_issue("agreement", b.start, b.end, f"'{a.text}' takes a singular verb.", fix))
        if x in _MODALS:
            if y == "to":
                out.append(_issue("verb_form", a.start, b.end, f"No 'to' after '{a.text}'.", a.text))
            elif y in _IRREGULAR_PAST or (y.endswith("ed") and y[:-2] in BASE_VERBS):
                base = _IRREGULAR_PAST.get(y, y[:-2])
                out.append(_issue("verb_form", b.start, b.end, f"Use the base form after '{a.text}'.", base))
            elif y.endswith("s") and y[:-1] in BASE_VERBS:
                out.append(
                    _issue("verb_form", b.start, b.end, f"Use the base form after '{a.text}'.", y[:-1])
                )
        elif x == "to" and (
            y in _IRREGULAR_PAST or (y.endswith("s") and y[:-1] in BASE_VERBS and y != "has")
        ):
            base = _IRREGULAR_PAST.get(y, y[:-1])
            out.append(_issue("verb_form", b.start, b.end, "Use the base form after 'to'.", base))
        elif x in ("did", "didn't", "does", "doesn't") and (
            y in _IRREGULAR_PAST or (y.endswith("ed") and y[:-2] in BASE_VERBS)
        ):
            base = _IRREGULAR_PAST.get(y, y[:-2])
            out.append(_issue("verb_form", b.start, b.end, f"After '{a.text}' use the base form.", base))
        elif x in ("have", "has", "had") and y in (
            "went",
            "go",
            "came",
            "took",
            "saw",
            "ate",
            "wrote",
            "gave",
        ):
            if y in _PARTICIPLE and _PARTICIPLE[y] != y:
                fix = _PARTICIPLE[y]
                out.append(_issue("verb_form", b.start, b.end, f"Use the past participle '{fix}'.", fix))
        elif (
            x in ("enjoy", "enjoys", "avoid", "avoids", "suggest", "suggests", "finish", "mind") and y == "to"
        ):
            out.append(
                _issue("verb_form", b.start, b.end, f"'{a.text}' is followed by a verb in -ing.", None)
            )
        elif x in ("more", "most") and y in (
            "better",
            "worse",
            "bigger",
            "easier",
            "cheaper",
            "faster",
            "best",
        ):
            out.append(_issue("verb_form", a.start, a.end, "Double comparative: drop 'more'.", ""))
    return out


def articles(tokens: list[Token], text: str) -> list[Issue]:
    """'a' before a vowel sound, 'an' before a consonant, and a/an with uncountable nouns."""
    out: list[Issue] = []
    for _prev, a, b in _pairs(tokens, text):
        x, y = a.lower, b.lower
        if x == "a" and y[0] in "aeio" and not y.startswith(("one", "once", "eu", "us", "uni")):
            out.append(_issue("article", a.start, a.end, f"Use 'an' before '{b.text}'.", "an"))
        elif (
            x == "an"
            and y[0] in "bcdfgjklmnpqrstvwxyz"
            and not y.startswith(("hour", "honest", "honou", "heir"))
            and len(y) > 1
        ):
            out.append(_issue("article", a.start, a.end, f"Use 'a' before '{b.text}'.", "a"))
        elif x in ("a", "an") and y in _UNCOUNTABLE:
            out.append(_issue("article", a.start, b.end, f"'{b.text}' is uncountable: no 'a'.", b.text))
        elif x in ("many", "several", "few") and y in _UNCOUNTABLE:
            out.append(_issue("article", a.start, b.end, f"'{b.text}' is uncountable.", f"a lot of {b.text}"))
    return out


_LINKERS = frozenset(COHESION_DEVICES)


def _introduces(head: str) -> bool:
    """Whether the words before a comma are an introductory phrase (a linker such as "However" or
    "On the other hand", or one or two words such as "Today"), which has no clause of its own."""
    words = head.lower().split()
    return len(words) <= 2 or " ".join(words) in _LINKERS


def sentence_level(sentences: list[Sentence], text: str) -> list[Issue]:
    """Run-on sentences (comma splices, very long unpunctuated ones) and capitalisation."""
    out: list[Issue] = []
    for s in sentences:
        first = s.tokens[0]
        if first.text[0].islower() and (s.start == 0 or text[: first.start].rstrip()[-1:] in ".!?"):
            fix = first.text[0].upper() + first.text[1:]
            out.append(
                _issue("capitalisation", first.start, first.end, "Start a sentence with a capital.", fix)
            )
        body = text[s.start : s.end]
        opener = first.lower
        if opener not in _SUBORDINATE_OPENERS:
            for m in _CLAUSE_START.finditer(body):
                head = body[: m.start()]
                if any(w in head.lower().split() for w in _SUBORDINATE_OPENERS):
                    continue
                if _introduces(head):
                    continue  # "However, there are ...": a linker before its clause, not a splice
                start = s.start + m.start()
                out.append(
                    _issue(
                        "run_on",
                        start,
                        start + 1,
                        "Two sentences joined by a comma: use a full stop, a semicolon or a linking word.",
                        ".",
                    )
                )
                break
        if len(s.tokens) >= RUN_ON_WORDS and not re.search(r"[,;:\u2014-]", body):
            out.append(
                _issue("run_on", s.start, s.tokens[-1].end, "A very long sentence with no punctuation.", None)
            )
    return out


def mechanics(tokens: list[Token], text: str) -> list[Issue]:
    """Lower-case 'i' and proper nouns, spaces around punctuation, mid-sentence 'however', doubled words."""
    out: list[Issue] = []
    for t in tokens:
        if t.text == "i":
            out.append(_issue("capitalisation", t.start, t.end, "'I' is always a capital.", "I"))
        elif t.text in _PROPER_LOWER:
            fix = _PROPER_LOWER[t.text]
            out.append(_issue("capitalisation", t.start, t.end, f"'{fix}' takes a capital.", fix))
    for m in _SPACE_BEFORE.finditer(text):
        out.append(_issue("punctuation", m.start(), m.end(), "No space before punctuation.", m.group("p")))
    for m in _NO_SPACE_AFTER.finditer(text):
        p = m.group("p") or m.group("q")
        out.append(_issue("punctuation", m.start(), m.end(), "Put a space after punctuation.", f"{p} "))
    for m in _HOWEVER_MID.finditer(text):
        out.append(
            _issue(
                "punctuation",
                m.start(),
                m.end(),
                "'however' between clauses needs '; however,'.",
                "; however,",
            )
        )
    for m in _DOUBLED.finditer(text):
        if m.group("w").lower() not in ("that", "had", "very"):
            out.append(_issue("punctuation", m.start(), m.end(), "Repeated word.", m.group("w")))
    return out


@cache
def spellchecker() -> SpellChecker:
    # distance 1 keeps suggestions cheap (milliseconds): enough for typical slips.
    return SpellChecker(language="en", distance=1)


_BRITISH = (
    (re.compile(r"is(e|ed|es|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"ys(e|ed|es|ing)$"), r"yz\1"),
    (re.compile(r"our(s|ed|ing|ite|ites|able)?$"), r"or\1"),
    (re.compile(r"tre(s)?$"), r"ter\1"),
    (re.compile(r"ll(ed|ing|er|ers)$"), r"l\1"),
)


def american_spelling(word: str) -> str:
    """Maps common British spellings (organise, colour, centre, travelled) to the American list's form."""
    for pattern, repl in _BRITISH:
        if pattern.search(word):
            return pattern.sub(repl, word)
    return word


def spelling(tokens: list[Token], allowed: frozenset[str]) -> list[Issue]:
    """Lower-case words the offline spell checker does not know (capitalised names are skipped)."""
    checker = spellchecker()
    out: list[Issue] = []
    candidates = [t for t in tokens if t.text.islower() and "'" not in t.lower and len(t.text) > 1]
    unknown = checker.unknown([t.lower for t in candidates if t.lower not in allowed])
    unknown = {w for w in unknown if not checker.known([american_spelling(w)])}
    for t in candidates:
        if t.lower in unknown:
            fix = checker.correction(t.lower)
            out.append(_issue("spelling", t.start, t.end, f"Spelling: '{t.text}'.", fix if fix else None))
    return out
