"""The offline speech recogniser (``STT_PROVIDER=offline``, the default), and the choice of recogniser.

PocketSphinx 5 from PyPI: its wheel ships the US English acoustic model, language model and
pronouncing dictionary (``pocketsphinx.get_model_path()``), so nothing is downloaded at run time.
Any container ffmpeg reads (wav, webm/opus, ogg, mp3, m4a) is first decoded to what the model
expects: 16 kHz mono 16-bit PCM. The result is a :class:`~grader.providers.transcription.Transcript`
with one :class:`~grader.providers.transcription.TimedText` per recognised word: its start and end
(seconds) and its posterior probability (``confidence``, 0..1), which the speaking scorer reads
for fluency (timings) and pronunciation (confidence).

The call is synchronous and CPU-bound (about 0.2 s per second of audio): the job runs it with
``asyncio.to_thread``. A decoder is not thread-safe, so each call borrows one from a small pool.

Failures are permanent :class:`~grader.scoring.base.ScoringError` s: ``audio_unreadable`` when
ffmpeg cannot decode the bytes (corrupt, truncated, not audio), ``no_speech`` when nothing was
recognised (silence, noise).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from grader.providers.transcription import TimedText, Transcriber, Transcript
from grader.scoring.base import ScoringError

if TYPE_CHECKING:
    from grader.config import Settings

PROVIDER = "pocketsphinx"
MODEL = "pocketsphinx-5-en-us"
SAMPLE_RATE = 16_000
FRAME_RATE = 100
"""PocketSphinx's default frames per second (``-frate``)."""
MAX_SECONDS = 900
"""Never decode more than this (the API refuses longer uploads long before; a guard, not a rule)."""
DECODE_TIMEOUT_S = 120.0
MIN_SPEECH_WORDS = 3
"""Fewer confidently recognised words than this is no speech: a silent recording yields one or two
spurious words ('dog' on 10 s of digital silence)."""
CONFIDENT = 0.3
"""A word whose posterior is at least this counts as heard, for :data:`MIN_SPEECH_WORDS`."""

_FILLER = re.compile(r"^(?:<s>|</s>|<sil>|<unk>|\[.*\]|\+\+.*\+\+)$")
_ALTERNATIVE = re.compile(r"\(\d+\)$")


def decode_pcm(audio: bytes, ffmpeg: str = "ffmpeg", max_seconds: int = MAX_SECONDS) -> bytes:
    """The audio as 16 kHz mono signed 16-bit little-endian PCM, through ffmpeg.

    The bytes go through a temporary file, not a pipe: an m4a whose index (``moov``) comes last
    cannot be read from a pipe. Raises ``ScoringError('audio_unreadable')`` when ffmpeg fails or finds
    no audio.
    """
    with tempfile.NamedTemporaryFile(prefix="vstep-audio-", delete=True) as source:
        source.write(audio)
        source.flush()
        try:
            run = subprocess.run(
                [
                    ffmpeg,
                    "-nostdin",
                    "-v",
                    "error",
                    "-i",
                    source.name,
                    "-t",
                    str(max_seconds),
                    "-vn",
                    "-f",
                    "s16le",
                    "-acodec",
                    "pcm_s16le",
                    "-ac",
                    "1",
                    "-ar",
                    str(SAMPLE_RATE),
                    "pipe:1",
                ],
                capture_output=True,
                timeout=DECODE_TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError:
            raise RuntimeError(f"{ffmpeg} is not installed (apt-get install ffmpeg)") from None
        except subprocess.TimeoutExpired:
            raise ScoringError("audio_unreadable", "decoding the recording took too long") from None
    if run.returncode != 0 or not run.stdout:
        reason = run.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ScoringError(
            "audio_unreadable", f"the recording cannot be decoded: {(reason or ['no audio'])[-1][:200]}"
        )
    return run.stdout


def clean_word(raw: str) -> str | None:
    """The word as spoken, or None for the recogniser's markers (silence, noise, sentence bounds);
    alternative pronunciations ``the(2)`` are the word itself."""
    if _FILLER.match(raw):
        return None
    return _ALTERNATIVE.sub("", raw).lower() or None


class PocketSphinxTranscriber:
    """:class:`~grader.providers.transcription.Transcriber` on PocketSphinx, offline."""

    provider = PROVIDER

    def __init__(self, ffmpeg: str = "ffmpeg") -> None:
        self.ffmpeg = ffmpeg
        self._idle: list[object] = []
        self._lock = threading.Lock()

    @contextmanager
    def _decoder(self) -> Iterator[object]:
        from pocketsphinx import Decoder  # type: ignore[import-untyped]  # late: loads on first speech

        with self._lock:
            decoder = self._idle.pop() if self._idle else None
        if decoder is None:
            decoder = Decoder(loglevel="FATAL")
        try:
            yield decoder
        finally:
            with self._lock:
                self._idle.append(decoder)

    def transcribe(self, audio: bytes, filename: str, content_type: str) -> Transcript:
        pcm = decode_pcm(audio, self.ffmpeg)
        with self._decoder() as decoder:
            d = decoder  # the pocketsphinx module has no type hints
            d.start_utt()  # type: ignore[attr-defined]
            d.process_raw(pcm, full_utt=True)  # type: ignore[attr-defined]
            d.end_utt()  # type: ignore[attr-defined]
            segments = list(d.seg())  # type: ignore[attr-defined]
        words: list[TimedText] = []
        for seg in segments:
            word = clean_word(seg.word)
            if word is None:
                continue
            words.append(
                TimedText(
                    text=word,
                    start=seg.start_frame / FRAME_RATE,
                    end=(seg.end_frame + 1) / FRAME_RATE,
                    confidence=max(0.0, min(1.0, float(seg.prob))),
                )
            )
        heard = sum(1 for w in words if (w.confidence or 0.0) >= CONFIDENT)
        if heard < MIN_SPEECH_WORDS:
            raise ScoringError("no_speech", "no speech was recognised in the recording (silence or noise)")
        return Transcript(
            text=" ".join(w.text for w in words),
            provider=PROVIDER,
            model=MODEL,
            words=tuple(words),
            language="en",
            duration_s=len(pcm) / (2 * SAMPLE_RATE),
        )


def transcriber_for(settings: Settings | None) -> Transcriber:
    """The recogniser ``STT_PROVIDER`` names: ``offline`` (default) or ``openai``."""
    if settings is not None and settings.stt_provider == "openai":
        from grader.providers.openai_transcriber import OpenAITranscriber

        return OpenAITranscriber(
            settings.openai_base_url, settings.openai_api_key, settings.stt_model, settings.provider_timeout_s
        )
    return PocketSphinxTranscriber()
