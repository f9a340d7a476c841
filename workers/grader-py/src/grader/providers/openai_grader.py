"""An OpenAI-compatible chat-completions grader (``GRADER_PROVIDER=openai``).

One ``POST {OPENAI_BASE_URL}/chat/completions`` per answer: the VSTEP rubric in the system message,
the task and the answer in the user message, temperature 0, and a JSON-schema response format. The
reply is validated by the generated ``ProviderGradeAnswer`` model (the contract the API shares) and
then by the rules the schema cannot say: exactly the skill's criteria, once each, and quotes that
really occur in the answer (they become the criterion's annotations). Anything else raises
``ScoringError('invalid_grade')``: an unusable answer is an error, never a 0.

HTTP failures are classified in :mod:`grader.providers.http` (transient vs permanent). The call is
synchronous (httpx) and runs in a thread like every scorer, so the event loop stays free.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from grader.contracts.models import ProviderGradeAnswer
from grader.providers.errors import ProviderRejected, ProviderUnavailable
from grader.providers.http import OpenAICompatibleClient, post
from grader.providers.rubric import RUBRIC_VERSION, answer_schema, criteria_for, messages
from grader.scoring.base import (
    Annotation,
    Assessment,
    CriterionResult,
    ScoringError,
    TaskSpec,
    overall_score,
)

PROVIDER = "openai"
LLM_CONFIDENCE = 0.8
"""An LLM grade's confidence for routing: above the medium threshold (0.7), so hybrid mode sends it to
a human only for the other reasons (near a cut-off, off topic, too short). Self-reported confidence
from a model is not calibrated, so none is asked for."""


def find_quote(answer: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` occurs in ``answer`` (code-point offsets): exactly, else ignoring case and
    differences in white space (models often re-flow lines)."""
    quote = quote.strip().strip("\"'\u201c\u201d\u2018\u2019")
    if not quote:
        return None
    at = answer.find(quote)
    if at >= 0:
        return at, at + len(quote)
    words = quote.split()
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, answer, flags=re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def parse_answer(content: str, task: TaskSpec, answer: str, model: str) -> Assessment:
    """The provider's message content as an :class:`Assessment`, or ``ScoringError('invalid_grade')``."""
    try:
        raw = json.loads(content)
    except (TypeError, ValueError):
        raise ScoringError("invalid_grade", f"the provider's answer is not JSON: {content[:200]!r}") from None
    try:
        parsed = ProviderGradeAnswer.model_validate(raw, strict=True)  # "no" is not a boolean here
    except ValidationError as exc:
        raise ScoringError("invalid_grade", f"the provider's answer breaks the contract: {exc}") from None
    expected = criteria_for(task)
    names = [c.criterion.root for c in parsed.criteria]
    if sorted(names) != sorted(expected):
        raise ScoringError("invalid_grade", f"{task.skill} needs the criteria {expected}, got {tuple(names)}")
    results: list[CriterionResult] = []
    for c in parsed.criteria:
        spans = [s for s in (find_quote(answer, q.root) for q in c.quotes) if s is not None]
        if not spans:
            raise ScoringError("invalid_grade", f"{c.criterion.root}: no quote occurs in the answer")
        notes = tuple(Annotation(a, b, f"{c.criterion.root}: {c.feedback}"[:500]) for a, b in spans)
        results.append(CriterionResult(c.criterion.root, float(c.score), c.feedback, notes))
    ordered = tuple(sorted(results, key=lambda r: expected.index(r.criterion)))
    scores = [r.score for r in ordered]
    return Assessment(
        criteria=ordered,
        overall=overall_score(scores),
        raw_mean=sum(scores) / len(scores),
        feedback=parsed.feedback,
        confidence=LLM_CONFIDENCE,
        provider=PROVIDER,
        model=model,
        rubric_version=RUBRIC_VERSION,
        flags=frozenset({"off_topic"}) if parsed.off_topic else frozenset(),
    )


class OpenAIGrader(OpenAICompatibleClient):
    """``Scorer`` for an OpenAI-compatible server. ``paid``: its answers are worth reusing."""

    provider = PROVIDER
    paid = True
    rubric_version = RUBRIC_VERSION

    def request_body(self, task: TaskSpec, answer: str) -> dict[str, Any]:
        return {
            "model": self.model,
            "temperature": 0,
            "messages": messages(task, answer),
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "vstep_grade", "strict": True, "schema": answer_schema(task)},
            },
        }

    def score(self, task: TaskSpec, answer_text: str | None) -> Assessment:
        if not answer_text or not answer_text.strip():
            raise ScoringError("no_answer_text", "nothing to grade: the answer has no text")
        response = post(
            self._client,
            PROVIDER,
            f"{self.base_url}/chat/completions",
            json=self.request_body(task, answer_text),
        )
        try:
            body = response.json()
            message = body["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ScoringError("invalid_grade", f"not a chat completion: {response.text[:200]!r}") from None
        if not isinstance(message, dict) or message.get("refusal"):
            raise ScoringError("invalid_grade", f"the provider refused to grade: {message!r}"[:300])
        return parse_answer(message.get("content") or "", task, answer_text, self.model)


__all__ = [
    "PROVIDER",
    "OpenAIGrader",
    "ProviderRejected",
    "ProviderUnavailable",
    "find_quote",
    "parse_answer",
]
