"""Builds the configured providers and their breakers from :class:`grader.config.Settings` alone,
so switching provider is a configuration change, never a code change."""

from __future__ import annotations

from grader.breaker import BreakerConfig, RedisBreaker
from grader.config import Settings
from grader.providers.openai_grader import OpenAIGrader
from grader.providers.openai_transcriber import OpenAITranscriber
from grader.providers.transcription import Transcriber
from grader.scoring import OfflineScorer, Scorer
from grader.scoring.slow import SlowScorer


def make_grader(settings: Settings) -> Scorer:
    grader: Scorer
    if settings.grader_provider == "openai":
        grader = OpenAIGrader(
            settings.openai_base_url,
            settings.openai_api_key,
            settings.grader_model,
            settings.provider_timeout_s,
        )
    else:
        grader = OfflineScorer()
    if settings.score_delay_ms > 0:  # chaos drills only (GRADER_SCORE_DELAY_MS)
        return SlowScorer(grader, settings.score_delay_ms / 1000)
    return grader


def make_remote_transcriber(settings: Settings) -> Transcriber | None:
    """The OpenAI-compatible transcriber when ``STT_PROVIDER=openai``; None means the offline one."""
    if settings.stt_provider == "openai":
        return OpenAITranscriber(
            settings.openai_base_url, settings.openai_api_key, settings.stt_model, settings.provider_timeout_s
        )
    return None


def make_breakers(settings: Settings, providers: list[str]) -> dict[str, RedisBreaker]:
    """One breaker per paid provider in use (the offline scorer needs none)."""
    config = BreakerConfig(
        window=settings.breaker_window,
        min_calls=settings.breaker_min_calls,
        failure_rate=settings.breaker_failure_rate,
        open_s=settings.breaker_open_s,
        half_open_calls=settings.breaker_half_open_calls,
    )
    return {p: RedisBreaker(p, config) for p in providers}
