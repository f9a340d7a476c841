# Generated from packages/contracts by `bun run generate`. Do not edit.

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, RootModel


class WorkerContracts(RootModel[Any]):
    root: Annotated[
        Any,
        Field(
            description="Generated from packages/contracts. Do not edit.",
            title="WorkerContracts",
        ),
    ]


class T(RootModel[int]):
    root: Annotated[int, Field(ge=1, le=9007199254740991)]


class ArqJobRecord(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    t: T | None
    f: Annotated[str, Field(min_length=1)]
    a: list[Any]
    k: dict[str, Any]
    et: Annotated[int, Field(ge=1, le=9007199254740991)]


class Criterion(
    RootModel[
        Literal[
            "task_fulfilment",
            "organisation",
            "vocabulary",
            "grammar",
            "pronunciation",
            "fluency",
            "discourse_management",
        ]
    ]
):
    root: Literal[
        "task_fulfilment",
        "organisation",
        "vocabulary",
        "grammar",
        "pronunciation",
        "fluency",
        "discourse_management",
    ]


class Annotation(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    start: Annotated[int, Field(ge=0, le=9007199254740991)]
    end: Annotated[int, Field(ge=0, le=9007199254740991)]
    message: Annotated[str, Field(min_length=1)]
    suggestion: str | None = None


class CriterionScore(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    criterion: Criterion
    score: Annotated[float, Field(ge=0.0, le=10.0, multiple_of=0.5)]
    feedback: str
    annotations: Annotated[list[Annotation] | None, Field(max_length=100)] = None


class GradeOrigin(RootModel[Literal["provider", "fallback", "reused"]]):
    root: Literal["provider", "fallback", "reused"]


class GradeSource(RootModel[Literal["ai", "human"]]):
    root: Literal["ai", "human"]


class GradeSubmissionJob(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    submission_id: UUID
    request_id: Annotated[str | None, Field(pattern="^[A-Za-z0-9._:-]{8,128}$")] = None


class GradingMode(RootModel[Literal["auto", "human", "hybrid"]]):
    root: Literal["auto", "human", "hybrid"]


class Quote(RootModel[str]):
    root: Annotated[str, Field(min_length=1)]


class Criterion1(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    criterion: Criterion
    score: Annotated[float, Field(ge=0.0, le=10.0, multiple_of=0.5)]
    feedback: Annotated[str, Field(min_length=1)]
    quotes: Annotated[list[Quote], Field(max_length=10, min_length=1)]


class ProviderGradeAnswer(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    criteria: Annotated[list[Criterion1], Field(max_length=5, min_length=4)]
    feedback: Annotated[str, Field(min_length=1)]
    off_topic: bool


class ReviewPriority(RootModel[Literal["low", "medium", "high"]]):
    root: Literal["low", "medium", "high"]


class Skill(RootModel[Literal["writing", "speaking"]]):
    root: Literal["writing", "speaking"]


class SubmissionStatus(
    RootModel[Literal["pending", "processing", "completed", "review_pending", "failed"]]
):
    root: Literal["pending", "processing", "completed", "review_pending", "failed"]


class TaskPart(
    RootModel[
        Literal[
            "writing_task_1",
            "writing_task_2",
            "speaking_part_1",
            "speaking_part_2",
            "speaking_part_3",
        ]
    ]
):
    root: Literal[
        "writing_task_1",
        "writing_task_2",
        "speaking_part_1",
        "speaking_part_2",
        "speaking_part_3",
    ]


class GradeJobOutcome(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    submission_id: UUID
    status: SubmissionStatus
    grade_written: bool
    review_priority: ReviewPriority | None


class GradeResult(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    submission_id: UUID
    source: GradeSource
    overall: Annotated[float, Field(ge=0.0, le=10.0, multiple_of=0.5)]
    criteria: Annotated[list[CriterionScore], Field(max_length=5, min_length=4)]
    feedback: str
    provider: Annotated[str, Field(min_length=1)]
    model: Annotated[str, Field(min_length=1)]
    rubric_version: Annotated[str, Field(min_length=1)]
    confidence: Annotated[float, Field(ge=0.0, le=1.0)]
    transcript: str | None
    origin: GradeOrigin | None = None
