import { z } from 'zod'
import { Criterion, GradeSource, ReviewPriority, Score, SubmissionStatus } from './vocabulary'

/** The arq function the worker registers for grading; the producer must use exactly this name. */
export const GRADE_SUBMISSION_FUNCTION = 'grade_submission'
/** The arq queue (a Redis sorted set) both sides agree on. */
export const DEFAULT_QUEUE_NAME = 'arq:queue'
/**
 * arq's Redis keys for one job (`<prefix><job id>`) and the worker's health-check key
 * (`<queue name><suffix>`). They are arq's own names; the worker's tests check them against arq.
 */
export const ARQ_KEYS = {
  jobPrefix: 'arq:job:',
  resultPrefix: 'arq:result:',
  inProgressPrefix: 'arq:in-progress:',
  retryPrefix: 'arq:retry:',
  healthCheckSuffix: ':health-check',
} as const

/**
 * The id that ties one HTTP request to the log lines it causes, in the API and in the worker: the
 * caller's `X-Request-Id` when it looks like this (letters, digits, `.`, `_`, `:`, `-`; 8 to 128
 * characters, so a header cannot smuggle spaces, quotes or newlines into a log line), else a fresh one.
 */
export const RequestId = z.string().regex(/^[A-Za-z0-9._:-]{8,128}$/)
export type RequestId = z.infer<typeof RequestId>

/**
 * Keyword arguments of one `grade_submission` job (`k` in arq's job record). The job id is the submission id.
 * `request_id` (optional, added later: a worker must be upgraded before the API that sends it) is the
 * id of the request that created or retried the submission; the worker puts it on its log lines.
 */
export const GradeSubmissionJob = z
  .object({
    submission_id: z.uuid(),
    request_id: RequestId.optional(),
  })
  .strict()
export type GradeSubmissionJob = z.infer<typeof GradeSubmissionJob>

/** arq's job definition as stored at `arq:job:<id>`, JSON-serialized (see docs/arq-protocol). */
export const ArqJobRecord = z.object({
  t: z.int().min(1).nullable(),
  f: z.string().min(1),
  a: z.array(z.unknown()),
  k: z.record(z.string(), z.unknown()),
  et: z.int().min(1),
})
export type ArqJobRecord = z.infer<typeof ArqJobRecord>

/**
 * A place in the answer that a criterion's feedback points at, so a client can underline it:
 * characters `start`..`end` of the answer text (end exclusive) in UTF-16 code units, i.e.
 * `answerText.slice(start, end)` in JavaScript; `suggestion` is a replacement when one is known.
 */
export const Annotation = z
  .object({
    start: z.int().min(0),
    end: z.int().min(0),
    message: z.string().min(1),
    suggestion: z.string().nullable().optional(),
  })
  .strict()
export type Annotation = z.infer<typeof Annotation>

/** One criterion score in a grade row. */
export const CriterionScore = z
  .object({
    criterion: Criterion,
    score: Score,
    feedback: z.string(),
    annotations: z.array(Annotation).max(100).optional(),
  })
  .strict()
export type CriterionScore = z.infer<typeof CriterionScore>

/**
 * How an AI grade came about, in `grades.origin`: `provider` (the configured provider graded this
 * answer), `fallback` (the paid provider was unavailable after every retry and the offline scorer
 * graded it, `GRADER_FALLBACK=offline`; its confidence is capped low), `reused` (an identical answer
 * to the same task was already graded under the same rubric version; that grade was copied instead
 * of paying the provider again).
 */
export const GRADE_ORIGINS = ['provider', 'fallback', 'reused'] as const
export const GradeOrigin = z.enum(GRADE_ORIGINS)
export type GradeOrigin = z.infer<typeof GradeOrigin>

/**
 * The structured answer an LLM grader must return (OpenAI-compatible chat completions with a JSON
 * schema response format). Every criterion of the skill, each 0..10 on the 0.5 grid, with feedback
 * and at least one verbatim quote of the learner's answer. Anything else is an invalid answer, never a 0.
 */
export const ProviderGradeAnswer = z
  .object({
    criteria: z
      .array(
        z
          .object({
            criterion: Criterion,
            score: Score,
            feedback: z.string().min(1),
            quotes: z.array(z.string().min(1)).min(1).max(10),
          })
          .strict(),
      )
      .min(4)
      .max(5),
    feedback: z.string().min(1),
    off_topic: z.boolean(),
  })
  .strict()
export type ProviderGradeAnswer = z.infer<typeof ProviderGradeAnswer>

/** What a grader writes to the `grades` and `grade_criteria` tables for one submission. */
export const GradeResult = z
  .object({
    submission_id: z.uuid(),
    source: GradeSource,
    overall: Score,
    criteria: z.array(CriterionScore).min(4).max(5),
    feedback: z.string(),
    provider: z.string().min(1),
    model: z.string().min(1),
    rubric_version: z.string().min(1),
    confidence: z.number().min(0).max(1),
    transcript: z.string().nullable(),
    /** Absent means `provider` (older writers). */
    origin: GradeOrigin.optional(),
  })
  .strict()
export type GradeResult = z.infer<typeof GradeResult>

/** The value a finished `grade_submission` job returns (arq stores it as `r` in the result record). */
export const GradeJobOutcome = z
  .object({
    submission_id: z.uuid(),
    status: SubmissionStatus,
    grade_written: z.boolean(),
    review_priority: ReviewPriority.nullable(),
  })
  .strict()
export type GradeJobOutcome = z.infer<typeof GradeJobOutcome>
