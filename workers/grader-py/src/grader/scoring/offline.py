"""The offline grading provider: no network, no key. A thin dispatcher over the two offline scorers.

- Writing: the fitted model in :mod:`grader.scoring.writing.scorer`.
- Speaking with only a text transcript (no recording, so no word timings and no recogniser
  confidences): the speaking scorer (:mod:`grader.scoring.speaking.scorer`) in its transcript-only
  mode. Fluency is then estimated from the language alone (flagged ``fluency_not_timed``) and
  pronunciation is not assessed (flagged ``pronunciation_not_assessed``), which keeps the grade's
  confidence below the low-confidence line, so hybrid grading always sends it to a person.
  Recordings do not come here: ``grader.speaking_pipeline`` transcribes them and calls the speaking
  scorer with the timings.
"""

from __future__ import annotations

from grader.providers.transcription import Transcript
from grader.scoring.base import Assessment, ScoringError, TaskSpec
from grader.scoring.speaking.scorer import TEXT_TRANSCRIPT, score_speech
from grader.scoring.writing.features import warm_up
from grader.scoring.writing.scorer import score_writing

PROVIDER = "offline"

__all__ = ["PROVIDER", "OfflineScorer", "score_speaking_transcript", "score_writing"]


def score_speaking_transcript(task: TaskSpec, transcript: str) -> Assessment:
    """Scores a Speaking answer from its text alone: the speaking scorer without timings or
    confidences. Its length is judged against the part's usual speaking time."""
    return score_speech(task, Transcript(text=transcript, provider=TEXT_TRANSCRIPT, model=TEXT_TRANSCRIPT))


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
