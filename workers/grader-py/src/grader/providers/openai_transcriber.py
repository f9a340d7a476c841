"""An OpenAI-compatible speech-to-text adapter (``STT_PROVIDER=openai``).

``POST {OPENAI_BASE_URL}/audio/transcriptions`` (multipart: the file, ``model``,
``response_format=verbose_json`` and ``timestamp_granularities[]`` word and segment). Servers that
answer plain ``json`` (text only) are accepted too: the words and segments are then empty. Errors
are classified like the grader's (transient / permanent, :mod:`grader.providers.http`); a reply
without text is ``ScoringError('transcription_unavailable')``.
"""

from __future__ import annotations

from typing import Any

from grader.providers.http import OpenAICompatibleClient, post
from grader.providers.transcription import TimedText, Transcript
from grader.scoring.base import ScoringError

PROVIDER = "openai-stt"
"""Its own breaker and metrics label: speech-to-text and chat can fail independently."""


def _timed(items: Any, key: str) -> tuple[TimedText, ...]:
    out: list[TimedText] = []
    if not isinstance(items, list):
        return ()
    for item in items:
        if not isinstance(item, dict):
            continue
        text, start, end = item.get(key), item.get("start"), item.get("end")
        if isinstance(text, str) and isinstance(start, int | float) and isinstance(end, int | float):
            out.append(TimedText(text.strip(), float(start), float(end)))
    return tuple(out)


def parse_transcription(body: Any, model: str) -> Transcript:
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"].strip():
        raise ScoringError(
            "transcription_unavailable", f"no transcript in the provider's answer: {body!r}"[:300]
        )
    duration = body.get("duration")
    return Transcript(
        text=body["text"].strip(),
        provider=PROVIDER,
        model=model,
        words=_timed(body.get("words"), "word"),
        segments=_timed(body.get("segments"), "text"),
        language=body.get("language") if isinstance(body.get("language"), str) else None,
        duration_s=float(duration) if isinstance(duration, int | float) else None,
    )


class OpenAITranscriber(OpenAICompatibleClient):
    provider = PROVIDER
    paid = True

    def transcribe(self, audio: bytes, filename: str, content_type: str) -> Transcript:
        data = {
            "model": self.model,
            "response_format": "verbose_json",
            "timestamp_granularities[]": ["word", "segment"],
        }
        response = post(
            self._client,
            PROVIDER,
            f"{self.base_url}/audio/transcriptions",
            data=data,
            files={"file": (filename, audio, content_type)},
        )
        try:
            body = response.json()
        except ValueError:
            raise ScoringError("transcription_unavailable", f"not JSON: {response.text[:200]!r}") from None
        return parse_transcription(body, self.model)
