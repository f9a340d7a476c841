"""The VSTEP rubric and the prompt the LLM grader sends, with the version stored on every grade.

Change a word of the descriptors or the instructions and bump :data:`RUBRIC_VERSION`: grades record
it (``grades.rubric_version``), and the cost-sense reuse only copies grades made under the same one.
"""

from __future__ import annotations

import json
from typing import Any

from grader.contracts.constants import SPEAKING_CRITERIA, WRITING_CRITERIA
from grader.scoring.base import TaskSpec

RUBRIC_VERSION = "vstep-llm-rubric-1+prompt-1"

DESCRIPTORS: dict[str, str] = {
    "task_fulfilment": (
        "Does the answer do what the task asks (every point covered, right length, right register and "
        "format)? 8.5-10: fully and relevantly developed; 6-8: all points covered, some thinly; 4-5.5: "
        "some points missing or underdeveloped; below 4: largely off task or far too short."
    ),
    "organisation": (
        "Paragraphing, logical order, cohesive devices. 8.5-10: clear progression, varied linking; 6-8: "
        "organised with some mechanical or faulty linking; 4-5.5: weak paragraphing, repetitive linkers; "
        "below 4: no clear organisation."
    ),
    "vocabulary": (
        "Range, precision, collocation, spelling. 8.5-10: wide and precise, rare slips; 6-8: adequate "
        "range, some errors that do not impede meaning; 4-5.5: limited, errors sometimes impede; "
        "below 4: very basic."
    ),
    "grammar": (
        "Range and accuracy of structures, punctuation. 8.5-10: complex structures, mostly error-free; "
        "6-8: mix of simple and complex, errors do not impede; 4-5.5: mainly simple, frequent errors; "
        "below 4: errors dominate."
    ),
    "pronunciation": (
        "Intelligibility, stress, intonation (judged from the transcript's evidence only). 8.5-10: easy "
        "to follow throughout; 6-8: generally clear; 4-5.5: sometimes hard to follow; "
        "below 4: often unintelligible."
    ),
    "fluency": (
        "Pace, hesitation, self-correction. 8.5-10: speaks at length with little effort; 6-8: some "
        "hesitation; 4-5.5: frequent pauses and fillers; below 4: fragmented."
    ),
    "discourse_management": (
        "Relevance, development and coherence of spoken turns. 8.5-10: extended, coherent, relevant; 6-8: "
        "relevant with some development; 4-5.5: short or loosely connected; below 4: minimal."
    ),
}

INSTRUCTIONS = (
    "You are a certified VSTEP examiner. Grade the learner's answer on each criterion listed, from 0 "
    "to 10 in steps of 0.5, using only the descriptors given. For every criterion write feedback in "
    "English for the learner and give 1-3 short quotes copied EXACTLY (character for character) from "
    "the answer that support your judgement. Set off_topic to true only if the answer does not address "
    "the task. Reply with JSON only, matching the schema."
)


def criteria_for(task: TaskSpec) -> tuple[str, ...]:
    return WRITING_CRITERIA if task.skill == "writing" else SPEAKING_CRITERIA


def answer_schema(task: TaskSpec) -> dict[str, Any]:
    """The JSON schema sent as ``response_format`` (OpenAI strict subset: no ranges; the worker
    checks ranges, the grid and the criteria with the generated ``ProviderGradeAnswer`` model)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["criteria", "feedback", "off_topic"],
        "properties": {
            "criteria": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["criterion", "score", "feedback", "quotes"],
                    "properties": {
                        "criterion": {"type": "string", "enum": list(criteria_for(task))},
                        "score": {"type": "number"},
                        "feedback": {"type": "string"},
                        "quotes": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "feedback": {"type": "string"},
            "off_topic": {"type": "boolean"},
        },
    }


def messages(task: TaskSpec, answer: str) -> list[dict[str, str]]:
    rubric = "\n".join(f"- {c}: {DESCRIPTORS[c]}" for c in criteria_for(task))
    system = f"{INSTRUCTIONS}\n\nRubric ({RUBRIC_VERSION}):\n{rubric}"
    user = json.dumps(
        {"part": task.part, "task": task.prompt, "min_words": task.min_words, "answer": answer},
        ensure_ascii=False,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
