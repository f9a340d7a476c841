"""What a speech-to-text provider returns, and the protocol every transcriber follows.

Kept minimal on purpose: the offline recogniser (``grader.providers.transcriber``, the speaking
work) and the OpenAI-compatible adapter (:mod:`grader.providers.openai_transcriber`) both return a
:class:`Transcript`. Timestamps are in seconds from the start of the audio, when the engine gives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TimedText:
    text: str
    start: float
    end: float
    confidence: float | None = None
    """The recogniser's posterior for this word (0..1); None when the engine gives none."""


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    provider: str
    model: str
    words: tuple[TimedText, ...] = ()
    segments: tuple[TimedText, ...] = ()
    language: str | None = None
    duration_s: float | None = None


class Transcriber(Protocol):
    provider: str

    def transcribe(self, audio: bytes, filename: str, content_type: str) -> Transcript: ...
