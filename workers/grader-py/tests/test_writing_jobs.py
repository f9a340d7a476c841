"""The writing grade's annotations reach the database, and scoring does not block the event loop."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
from conftest import create_submission
from test_jobs import ctx_for
from writing_fixtures import PLANTED

from grader.jobs import annotations_of, grade_submission
from grader.scoring import OfflineScorer, TaskSpec
from grader.scoring.base import Annotation, Assessment


def test_offsets_are_utf16_like_javascript() -> None:
    text = "I 😀 hav a dog"  # the emoji is 1 code point, 2 UTF-16 units
    start = text.index("hav")
    [item] = annotations_of(text, [Annotation(start, start + 3, "Spelling: 'hav'.", "have")])
    assert (item["start"], item["end"]) == (start + 1, start + 4)
    assert text.encode("utf-16-le")[2 * item["start"] : 2 * item["end"]].decode("utf-16-le") == "hav"
    assert item["suggestion"] == "have"


async def test_annotations_are_stored_with_the_grade(pool: asyncpg.Pool) -> None:
    sid = await create_submission(pool, answer_text=PLANTED)
    await grade_submission(ctx_for(pool), submission_id=str(sid))
    rows = await pool.fetch(
        """select c.criterion::text as criterion, c.annotations
             from grade_criteria c join grades g on g.id = c.grade_id where g.submission_id = $1""",
        sid,
    )
    grammar = json.loads(next(r["annotations"] for r in rows if r["criterion"] == "grammar"))
    quoted = {PLANTED[a["start"] : a["end"]] for a in grammar}
    assert {"have", "can to", "went"} <= quoted
    assert all(a["message"] for a in grammar)


class SlowScorer:
    """Burns CPU time in ``score`` (no awaits), as a slow provider or a huge essay would."""

    provider = "offline"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.inner = OfflineScorer()

    def score(self, task: TaskSpec, answer_text: str | None) -> Assessment:
        end = time.perf_counter() + self.seconds
        while time.perf_counter() < end:
            pass
        return self.inner.score(task, answer_text)


async def test_a_slow_scorer_does_not_block_the_event_loop(pool: asyncpg.Pool) -> None:
    slow = 0.6
    sids = [await create_submission(pool, answer_text=PLANTED) for _ in range(2)]
    ctx: dict[str, Any] = {**ctx_for(pool), "scorer": SlowScorer(slow)}
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    tick_task = asyncio.create_task(ticker())
    t0 = time.perf_counter()
    outs = await asyncio.gather(*(grade_submission(ctx, submission_id=str(s)) for s in sids))
    elapsed = time.perf_counter() - t0
    done.set()
    await tick_task
    assert all(o is not None and o["grade_written"] for o in outs)
    # the loop kept running while both jobs scored (a blocked loop would tick about twice)
    assert ticks >= 20, ticks
    assert elapsed >= slow
