"""A spoken answer, from its stored recording to an assessment: read the audio (:mod:`grader.audio_store`),
transcribe it (:mod:`grader.providers.transcriber`, off the event loop), keep the transcript on the
submission (so the learner sees it even when scoring fails later), then score it on the five
criteria (:mod:`grader.scoring.speaking.scorer`).

The job's context may carry ``audio_store`` and ``transcriber`` (tests, other providers); otherwise
they come from the environment and ``STT_PROVIDER``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any
from uuid import UUID

import asyncpg

from grader.audio_store import AudioStore, AudioStoreSettings, audio_store
from grader.observability import provider_call
from grader.providers.guard import through_breaker
from grader.providers.transcriber import PocketSphinxTranscriber, transcriber_for
from grader.providers.transcription import Transcriber, Transcript
from grader.scoring.base import Assessment, TaskSpec
from grader.scoring.speaking.scorer import score_speech

EXTENSIONS = {
    "audio/wav": "wav",
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
}


def store_of(ctx: dict[str, Any]) -> AudioStore:
    store: AudioStore | None = ctx.get("audio_store")
    if store is None:
        store = audio_store(AudioStoreSettings.from_env(os.environ))
        ctx["audio_store"] = store
    return store


def transcriber_of(ctx: dict[str, Any], fallback: bool = False) -> Transcriber:
    """The configured transcriber; the offline recogniser when ``fallback`` (the paid one stayed
    unavailable through every try and ``GRADER_FALLBACK=offline``)."""
    if fallback:
        offline: Transcriber | None = ctx.get("offline_transcriber")
        if offline is None:
            offline = PocketSphinxTranscriber()
            ctx["offline_transcriber"] = offline
        return offline
    transcriber: Transcriber | None = ctx.get("transcriber")
    if transcriber is None:
        transcriber = transcriber_for(ctx.get("settings"))
        ctx["transcriber"] = transcriber
    return transcriber


async def assess_recording(
    ctx: dict[str, Any],
    pool: asyncpg.Pool,
    sid: UUID,
    task: TaskSpec,
    audio_ref: str,
    media_type: str | None,
    speaking_seconds: int | None,
    fallback: bool = False,
) -> Assessment:
    """Transcribes (a paid transcriber only through its circuit breaker, :mod:`grader.providers.guard`:
    its transient failures and an open breaker reach jobs.py as they do from the grader, and are
    deferred, retried, dead-lettered or routed the same way), stores the transcript, then scores."""
    audio = await store_of(ctx).read(audio_ref)
    mime = media_type or "application/octet-stream"
    filename = f"answer.{EXTENSIONS.get(mime, 'bin')}"
    transcriber = transcriber_of(ctx, fallback)

    def transcribe() -> Transcript:
        with provider_call(str(transcriber.provider), "transcribe"):
            return transcriber.transcribe(audio, filename, mime)

    transcript = await through_breaker(ctx, str(transcriber.provider), transcribe)
    await pool.execute(
        "update submissions set transcript = $2 where id = $1 and status = 'processing'", sid, transcript.text
    )
    with provider_call("offline", "score"):  # the speaking scorer is always the offline one
        return await asyncio.to_thread(score_speech, task, transcript, speaking_seconds)
