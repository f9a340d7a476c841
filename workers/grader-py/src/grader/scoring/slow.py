"""A scorer made deliberately slow, for chaos drills and the concurrency test (``GRADER_SCORE_DELAY_MS``).

It blocks the thread it scores in, as a CPU-bound model or a slow synchronous client would. The worker
scores in a thread (``asyncio.to_thread``), so a slow score must hold up only its own job: arq keeps
polling and the worker's other job slots keep grading meanwhile. A drill with this set shows it on the
real worker process (``apps/api/test/e2e/slow-scorer.test.ts``).
"""

from __future__ import annotations

import time
from typing import Any

from grader.scoring.base import Assessment, Scorer, TaskSpec


class SlowScorer:
    """Delegates to ``inner`` after sleeping ``delay_s`` in the calling thread."""

    def __init__(self, inner: Scorer, delay_s: float) -> None:
        self.inner = inner
        self.delay_s = delay_s
        self.provider = inner.provider

    def score(self, task: TaskSpec, answer_text: str | None) -> Assessment:
        time.sleep(self.delay_s)  # blocking on purpose: this is the slow part under test
        return self.inner.score(task, answer_text)

    def __getattr__(self, name: str) -> Any:
        # model, rubric_version, paid, ...: whatever the job reads from the real scorer
        return getattr(self.inner, name)
