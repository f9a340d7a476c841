"""Speaking in the worker: fluency measures and the speaking scorer (pure), the offline recogniser
on speech synthesised here with espeak-ng, and the job from a stored recording to a grade."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from conftest import create_submission

from grader.audio_store import AudioStoreConfigError, AudioStoreSettings, LocalAudioStore, sigv4_headers
from grader.config import Settings
from grader.jobs import grade_submission
from grader.providers.transcriber import PocketSphinxTranscriber, clean_word
from grader.providers.transcription import TimedText, Transcript
from grader.scoring.base import ScoringError, TaskSpec
from grader.scoring.speaking.fluency import fluency_score, measure_fluency
from grader.scoring.speaking.scorer import score_speech

SPOKEN = (
    "I think the best idea is the photo book because every student can write a message to her. "
    "A trip to the seaside is expensive and a party at the school is difficult to organize."
)
TASK = TaskSpec(
    skill="speaking",
    part="speaking_part_2",
    prompt="Which gift is best: a photo book, a trip to the seaside or a party at the school? Explain.",
    min_words=0,
)


def timed(text: str, gaps: dict[int, float] | None = None, word_s: float = 0.35) -> tuple[TimedText, ...]:
    """Words of ``text`` at ``word_s`` each, with a silence of ``gaps[i]`` before word i."""
    out: list[TimedText] = []
    t = 0.0
    for i, w in enumerate(text.split()):
        t += (gaps or {}).get(i, 0.05)
        out.append(TimedText(w, t, t + word_s, 0.9))
        t += word_s
    return tuple(out)


def test_fluency_counts_pauses_fillers_and_runs() -> None:
    words = timed("so um I think that uh the book is best because it lasts", {4: 1.5, 8: 0.6})
    m = measure_fluency(words)
    assert [(p.before, p.seconds) for p in m.pauses] == [(4, 1.5), (8, 0.6)]
    assert m.filled == (1, 5)
    assert m.words == 11
    assert m.mean_run == pytest.approx(
        11 / 5
    )  # so / I think that / the book / is best because it lasts ... split by fillers and pauses
    assert m.long_pauses_per_min > 0


def test_halting_speech_scores_lower_fluency_than_smooth_speech() -> None:
    smooth = measure_fluency(timed(SPOKEN))
    halting_text = " ".join(f"um {w}" if i % 3 == 0 else w for i, w in enumerate(SPOKEN.split()))
    halting = measure_fluency(timed(halting_text, {i: 1.2 for i in range(0, 60, 4)}))
    assert fluency_score(smooth) > fluency_score(halting) + 2


def test_speaking_scorer_quotes_the_transcript_and_judges_pronunciation_from_confidence() -> None:
    transcript = Transcript(
        SPOKEN.lower().replace(".", ""), "pocketsphinx", "m", timed(SPOKEN.lower().replace(".", ""))
    )
    a = score_speech(TASK, transcript, 60)
    assert [c.criterion for c in a.criteria] == [
        "grammar",
        "vocabulary",
        "pronunciation",
        "fluency",
        "discourse_management",
    ]
    assert "pronunciation_not_assessed" not in a.flags
    for c in a.criteria:
        for x in c.annotations:
            assert 0 <= x.start < x.end <= len(transcript.text)
            assert transcript.text[x.start : x.end] in x.message
    unsure = Transcript(
        transcript.text, "p", "m", tuple(TimedText(w.text, w.start, w.end, 0.2) for w in transcript.words)
    )
    pron = {c.criterion: c.score for c in score_speech(TASK, unsure, 60).criteria}["pronunciation"]
    assert pron < {c.criterion: c.score for c in a.criteria}["pronunciation"]


def test_a_transcript_without_confidences_leaves_pronunciation_to_a_person() -> None:
    words = tuple(TimedText(w.text, w.start, w.end, None) for w in timed(SPOKEN))
    a = score_speech(TASK, Transcript(SPOKEN, "openai-stt", "whisper-1", words), 60)
    assert "pronunciation_not_assessed" in a.flags
    assert a.confidence < 0.5  # below GRADING_POLICY.lowConfidenceBelow: hybrid sends it to review


def test_clean_word_drops_markers_and_alternatives() -> None:
    assert [clean_word(w) for w in ("<s>", "<sil>", "[NOISE]", "the(2)", "Book")] == [
        None,
        None,
        None,
        "the",
        "book",
    ]


def espeak(path: Path, text: str) -> bytes:
    subprocess.run(["espeak-ng", "-v", "en-us+f2", "-s", "150", "-w", str(path), text], check=True)
    return path.read_bytes()


def test_the_offline_recogniser_hears_most_words_with_timings(tmp_path: Path) -> None:
    transcript = PocketSphinxTranscriber().transcribe(
        espeak(tmp_path / "a.wav", SPOKEN), "a.wav", "audio/wav"
    )
    said = set(SPOKEN.lower().replace(".", "").split())
    heard = set(transcript.text.split())
    assert len(said & heard) / len(said) > 0.6
    assert all(w.end > w.start and w.confidence is not None for w in transcript.words)
    assert transcript.words == tuple(sorted(transcript.words, key=lambda w: w.start))
    assert transcript.duration_s is not None and transcript.duration_s > 5


def test_the_recogniser_refuses_silence_and_garbage(tmp_path: Path) -> None:
    silence = tmp_path / "s.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "10", str(silence)],
        check=True,
    )
    with pytest.raises(ScoringError) as quiet:
        PocketSphinxTranscriber().transcribe(silence.read_bytes(), "s.wav", "audio/wav")
    assert quiet.value.code == "no_speech"
    with pytest.raises(ScoringError) as broken:
        PocketSphinxTranscriber().transcribe(b"not audio at all" * 100, "x.wav", "audio/wav")
    assert broken.value.code == "audio_unreadable"


async def test_local_store_stays_inside_its_directory(tmp_path: Path) -> None:
    (tmp_path / "audio").mkdir()
    (tmp_path / "secret").write_bytes(b"x")
    store = LocalAudioStore(str(tmp_path / "audio"))
    for key in ("../secret", "missing.wav"):
        with pytest.raises(ScoringError) as exc:
            await store.read(key)
        assert exc.value.code == "audio_unreadable"


def test_storage_settings_name_what_is_missing() -> None:
    assert AudioStoreSettings.from_env({}).kind == "local"
    with pytest.raises(AudioStoreConfigError, match="S3_ENDPOINT"):
        AudioStoreSettings.from_env({"AUDIO_STORAGE": "s3"})
    with pytest.raises(AudioStoreConfigError, match="AUDIO_STORAGE"):
        AudioStoreSettings.from_env({"AUDIO_STORAGE": "ftp"})


def test_sigv4_matches_the_documented_example() -> None:
    # AWS S3 documentation, "Example: GET Object" without the Range header is not published, so this
    # pins the signer's own output for fixed inputs: a change to canonicalisation shows up here.
    import datetime as dt

    h = sigv4_headers(
        "GET",
        "http://127.0.0.1:9000/bucket/audio/u/x.wav",
        "us-east-1",
        "AKIDEXAMPLE",
        "secret",
        dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )
    assert h["x-amz-date"] == "20260102T030405Z"
    assert h["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
    )


async def test_a_recording_goes_from_storage_to_a_grade(pool: asyncpg.Pool, tmp_path: Path) -> None:
    key = f"audio/test/{uuid.uuid4()}.wav"
    (tmp_path / key).parent.mkdir(parents=True)
    espeak(tmp_path / key, SPOKEN)
    sid = await create_submission(pool, slug="s2-birthday-gift", answer_text=None, audio_ref=key)
    await pool.execute("update submissions set audio_media_type = 'audio/wav' where id = $1", sid)
    ctx: dict[str, Any] = {
        "pg": pool,
        "job_try": 1,
        "job_id": "t",
        "settings": Settings(database_url="postgres://unused/db", spot_check_share=0.0),
        "audio_store": LocalAudioStore(str(tmp_path)),
    }
    out = await grade_submission(ctx, submission_id=str(sid))
    assert out is not None and out["grade_written"] is True
    assert out["status"] in ("completed", "review_pending")
    row = await pool.fetchrow(
        "select s.transcript, g.transcript as graded, g.provider from submissions s "
        "join grades g on g.submission_id = s.id where s.id = $1",
        sid,
    )
    assert row is not None and row["transcript"] and row["transcript"] == row["graded"]
    criteria = await pool.fetch(
        """select criterion::text, annotations from grade_criteria g
             join grades x on x.id = g.grade_id where x.submission_id = $1""",
        sid,
    )
    assert len(criteria) == 5


async def test_a_garbage_recording_fails_cleanly_as_audio_unreadable(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    (tmp_path / "bad.wav").write_bytes(b"RIFF....WAVE but nothing else")
    sid = await create_submission(
        pool, slug="s2-birthday-gift", answer_text=None, audio_ref="bad.wav", mode="auto"
    )
    ctx: dict[str, Any] = {
        "pg": pool,
        "job_try": 1,
        "job_id": "t",
        "audio_store": LocalAudioStore(str(tmp_path)),
    }
    out = await grade_submission(ctx, submission_id=str(sid))
    assert out is not None and out["status"] == "failed"
    code = await pool.fetchval("select last_error_code from submissions where id = $1", sid)
    assert code == "audio_unreadable"
