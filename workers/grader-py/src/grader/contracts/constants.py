# Generated from packages/contracts by `bun run generate`. Do not edit.
from typing import Final

GRADE_SUBMISSION_FUNCTION: Final = "grade_submission"
DEFAULT_QUEUE_NAME: Final = "arq:queue"
WRITING_CRITERIA: Final = ("task_fulfilment", "organisation", "vocabulary", "grammar")
SPEAKING_CRITERIA: Final = ("grammar", "vocabulary", "pronunciation", "fluency", "discourse_management")
FINAL_STATUSES: Final = frozenset({"completed", "failed"})
CEFR_CUTOFFS: Final = (("C1", 8.5), ("B2", 6.0), ("B1", 4.0))
SUBMISSION_TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "pending": frozenset({"processing", "review_pending", "failed"}),
    "processing": frozenset({"completed", "review_pending", "failed"}),
    "review_pending": frozenset({"completed"}),
    "failed": frozenset({"pending"}),
    "completed": frozenset(),
}

# The grading policy (packages/contracts/src/grading-policy.ts: GRADING_POLICY, REVIEW_REASONS,
# REVIEW_REASON_PRIORITY). grader.routing mirrors routeGrade with these numbers.
GRADING_MODES: Final = ("auto", "human", "hybrid")
REVIEW_PRIORITIES: Final = ("low", "medium", "high")
LOW_CONFIDENCE_BELOW: Final = 0.5
MEDIUM_CONFIDENCE_BELOW: Final = 0.7
NEAR_CUTOFF_MARGIN: Final = 0.25
ROUTING_CUTOFFS: Final = (4.0, 6.0, 8.5)
SPOT_CHECK_SHARE: Final = 0.05
HUMAN_MODE_PRIORITY: Final = "medium"
DEADLINE_MINUTES: Final[dict[str, int]] = {"writing": 20, "speaking": 60}
CLAIM_TAKEOVER_MINUTES: Final = 15
DISAGREEMENT_ABOVE: Final = 0.5
REVIEW_REASONS: Final = ("human_mode", "ai_failed", "low_confidence", "medium_confidence", "near_cutoff", "off_topic", "too_short", "spot_check")
REVIEW_REASON_PRIORITY: Final[dict[str, str]] = {"human_mode": "medium", "ai_failed": "high", "low_confidence": "high", "medium_confidence": "medium", "near_cutoff": "high", "off_topic": "medium", "too_short": "medium", "spot_check": "low"}
