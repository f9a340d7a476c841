# Generated from packages/contracts by `bun run generate`. Do not edit.
from typing import Final, Literal, TypeAlias

# The queue (jobs.ts): function and queue names, arq's key layout.
GRADE_SUBMISSION_FUNCTION: Final = "grade_submission"
DEFAULT_QUEUE_NAME: Final = "arq:queue"
ARQ_JOB_KEY_PREFIX: Final = "arq:job:"
ARQ_RESULT_KEY_PREFIX: Final = "arq:result:"
ARQ_IN_PROGRESS_KEY_PREFIX: Final = "arq:in-progress:"
ARQ_RETRY_KEY_PREFIX: Final = "arq:retry:"
ARQ_HEALTH_CHECK_SUFFIX: Final = ":health-check"

# Vocabulary (vocabulary.ts).
WRITING_CRITERIA: Final = ("task_fulfilment", "organisation", "vocabulary", "grammar")
SPEAKING_CRITERIA: Final = ("grammar", "vocabulary", "pronunciation", "fluency", "discourse_management")
GradingModeName: TypeAlias = Literal["auto", "human", "hybrid"]
SubmissionStatusName: TypeAlias = Literal["pending", "processing", "completed", "review_pending", "failed"]

# The lifecycle (state-machine.ts): transitions and the status sets.
SUBMISSION_TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "pending": frozenset({"processing", "review_pending", "failed"}),
    "processing": frozenset({"completed", "review_pending", "failed"}),
    "review_pending": frozenset({"completed"}),
    "failed": frozenset({"pending"}),
    "completed": frozenset(),
}
TERMINAL_STATUSES: Final = frozenset({"completed"})
FINAL_STATUSES: Final = frozenset({"completed", "failed"})
AI_GRADING_STATUSES: Final = frozenset({"pending", "processing"})

# Scores (scoring.ts): range, decimal places read before rounding, CEFR cut-offs and labels.
SCORE_MIN: Final = 0.0
SCORE_MAX: Final = 10.0
SCORE_DECIMALS: Final = 12
CEFR_CUTOFFS: Final = (("C1", 8.5), ("B2", 6.0), ("B1", 4.0))
CEFR_BELOW_CUTOFFS: Final = "none"
CEFR_LABELS: Final[dict[str, str]] = {"none": "below B1", "B1": "B1", "B2": "B2", "C1": "C1"}

# Codes (codes.ts): last_error_code values, the worker's actor name, fixed event reasons.
LastErrorCode: TypeAlias = Literal["timeout", "invalid_payload", "task_not_found", "no_answer_text", "transcription_unavailable", "audio_unreadable", "no_speech", "invalid_grade", "retries_exhausted", "internal_error", "provider_unavailable", "provider_rejected"]
WORKER_ACTOR: Final = "worker"
EVENT_REASON_GRADING_STARTED: Final = "grading started"

# The grading policy (packages/contracts/src/grading-policy.ts: GRADING_POLICY, REVIEW_REASONS,
# REVIEW_REASON_PRIORITY). grader.routing mirrors routeGrade with these numbers. Deadlines,
# review claims and the disagreement audit are the API's business and are not generated.
REVIEW_PRIORITIES: Final = ("low", "medium", "high")
ReviewPriorityName: TypeAlias = Literal["low", "medium", "high"]
ReviewReason: TypeAlias = Literal["human_mode", "ai_failed", "low_confidence", "medium_confidence", "near_cutoff", "off_topic", "too_short", "spot_check"]
LOW_CONFIDENCE_BELOW: Final = 0.5
MEDIUM_CONFIDENCE_BELOW: Final = 0.7
NEAR_CUTOFF_MARGIN: Final = 0.25
ROUTING_CUTOFFS: Final = (4.0, 6.0, 8.5)
SPOT_CHECK_SHARE: Final = 0.05
HUMAN_MODE_PRIORITY: Final = "medium"
REVIEW_REASON_PRIORITY: Final[dict[str, str]] = {"human_mode": "medium", "ai_failed": "high", "low_confidence": "high", "medium_confidence": "medium", "near_cutoff": "high", "off_topic": "medium", "too_short": "medium", "spot_check": "low"}
