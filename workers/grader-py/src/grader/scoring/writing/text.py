"""Tokens, sentences and paragraphs of an answer, each with its character offsets in the answer.

Offsets are what lets feedback point at the learner's own words (``{start, end}`` annotations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n\s*\n")
_PARAGRAPH_SPLIT = re.compile(r"\n\s*\n|\n(?=\s*[A-Z])")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower().replace("\u2019", "'")


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    tokens: tuple[Token, ...]


def tokens_of(text: str) -> list[Token]:
    """Word tokens (letters with inner apostrophes) with their offsets."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def sentences_of(text: str, tokens: list[Token] | None = None) -> list[Sentence]:
    """Sentences split at ., ! or ? followed by space, and at blank lines; empty pieces dropped."""
    toks = tokens if tokens is not None else tokens_of(text)
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        bounds.append((start, m.end()))
        start = m.end()
    bounds.append((start, len(text)))
    out: list[Sentence] = []
    i = 0
    for s, e in bounds:
        group: list[Token] = []
        while i < len(toks) and toks[i].start < e:
            if toks[i].start >= s:
                group.append(toks[i])
            i += 1
        if group:
            out.append(Sentence(group[0].start, e if e <= len(text) else len(text), tuple(group)))
    return out


def paragraph_count(text: str) -> int:
    """Blank-line separated blocks; a text written one paragraph per line counts its lines."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if _TOKEN.search(b)]
    if len(blocks) <= 1:
        lines = [line for line in text.splitlines() if _TOKEN.search(line)]
        return max(len(lines), 1 if blocks else 0)
    return len(blocks)
