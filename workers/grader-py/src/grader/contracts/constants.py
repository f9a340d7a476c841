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
