import { z } from 'zod'
import {
  CefrLevel,
  Criterion,
  GradeSource,
  GradingMode,
  ReviewPriority,
  Score,
  Skill,
  SubmissionStatus,
  TaskPart,
  UserRole,
} from './vocabulary'
import { ANSWER_LIMITS } from './grading-policy'
import { Annotation, GradeOrigin } from './jobs'

/** RFC 9457 problem details, the body of every error response. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
})
export type Problem = z.infer<typeof Problem>

const Email = z.email().max(254)
export const RegisterBody = z.object({
  email: Email,
  password: z.string().min(8).max(128),
  displayName: z.string().trim().min(1).max(80),
})
export type RegisterBody = z.infer<typeof RegisterBody>

export const LoginBody = z.object({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(128),
})
export type LoginBody = z.infer<typeof LoginBody>

export const User = z.object({
  id: z.uuid(),
  email: z.string(),
  displayName: z.string(),
  role: UserRole,
  createdAt: z.string(),
})
export type User = z.infer<typeof User>

/** `GET /v1/admin/users`: users whose email starts with `email` (any case), optionally of one role; by email, a cursor page at a time. */
export const ListUsersQuery = z.object({
  /** The start of the email address, compared case-insensitively (e.g. `ann` or `ann@school.`). */
  email: z.string().trim().toLowerCase().max(254).optional(),
  role: UserRole.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Opaque; pass `nextCursor` of the previous page. */
  cursor: z.string().max(400).optional(),
})
export type ListUsersQuery = z.infer<typeof ListUsersQuery>
export const UserPage = z.object({ items: z.array(User), nextCursor: z.string().nullable() })
export type UserPage = z.infer<typeof UserPage>

export const TokenPair = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.int(),
  refreshToken: z.string().optional(),
  user: User,
})
export type TokenPair = z.infer<typeof TokenPair>

export const Task = z.object({
  id: z.uuid(),
  skill: Skill,
  part: TaskPart,
  title: z.string(),
  prompt: z.string(),
  minWords: z.int(),
  timeLimitMinutes: z.int(),
  /** Speaking: seconds to prepare before answering (0 for Part 1 and for Writing). */
  preparationSeconds: z.int(),
  /** Speaking: seconds of speaking time the part allows; null for Writing. */
  speakingSeconds: z.int().nullable(),
  level: z.string(),
  gradingMode: GradingMode,
})
export type Task = z.infer<typeof Task>

/**
 * Text answers are JSON. Audio answers (speaking tasks) arrive as `multipart/form-data` with the
 * fields `taskId` and `audio` (the file: AUDIO_LIMITS.mediaTypes, sniffed from the bytes); see docs/api.md.
 */
export const CreateSubmissionBody = z
  .object({
    taskId: z.uuid(),
    answerText: z.string().trim().min(1, 'answerText must not be empty').max(ANSWER_LIMITS.maxChars),
  })
  .strict()
export type CreateSubmissionBody = z.infer<typeof CreateSubmissionBody>

/** `annotations` quote the learner's words by offset (empty for human grades). */
export const GradeCriterion = z.object({
  criterion: Criterion,
  score: Score,
  feedback: z.string(),
  annotations: z.array(Annotation),
})
export const Grade = z.object({
  id: z.uuid(),
  source: GradeSource,
  overall: Score,
  cefr: CefrLevel,
  criteria: z.array(GradeCriterion),
  feedback: z.string(),
  provider: z.string(),
  model: z.string(),
  /** The rubric and prompt version the grade was made under (e.g. `vstep-llm-rubric-1+prompt-1`). */
  rubricVersion: z.string(),
  confidence: z.number(),
  /**
   * How an AI grade came about: `provider` (fresh: the configured provider graded this answer),
   * `reused` (copied from the grade of an identical answer to the same task under the same rubric
   * version), `fallback` (the offline scorer, after the paid provider stayed unavailable). Null for a
   * human grade.
   */
  origin: GradeOrigin.nullable(),
  createdAt: z.string(),
})
export type Grade = z.infer<typeof Grade>

/** The stored recording of a spoken answer (the file itself is private: GET /v1/submissions/:id/audio). */
export const SubmissionAudio = z.object({
  /** The container sniffed from the bytes, e.g. `audio/wav`, `audio/webm`. */
  mediaType: z.string(),
  bytes: z.int(),
  durationSeconds: z.number(),
})
export type SubmissionAudio = z.infer<typeof SubmissionAudio>

export const Submission = z.object({
  id: z.uuid(),
  taskId: z.uuid(),
  userId: z.uuid(),
  skill: Skill,
  status: SubmissionStatus,
  gradingMode: GradingMode,
  reviewPriority: ReviewPriority.nullable(),
  answerText: z.string().nullable(),
  wordCount: z.int(),
  attempts: z.int(),
  lastErrorCode: z.string().nullable(),
  /** Grading deadline; null once in review or for human mode. */
  deadlineAt: z.string().nullable(),
  /** The AI result arrived after the deadline had failed the submission: kept, but left out of progress. */
  late: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  grades: z.array(Grade),
  /** A spoken answer's recording (null for text); the bytes are at GET /v1/submissions/:id/audio. */
  audio: SubmissionAudio.nullable(),
  /** What the recogniser heard (speaking, once transcribed); annotations of speaking grades index into it. */
  transcript: z.string().nullable(),
})
export type Submission = z.infer<typeof Submission>

export const SubmissionSummary = Submission.omit({ grades: true, answerText: true, transcript: true }).extend({
  /** The final overall (human if present, else AI), or null while ungraded. */
  overall: Score.nullable(),
})
export type SubmissionSummary = z.infer<typeof SubmissionSummary>

/**
 * A date filter: ISO 8601 syntax is not enough, the value must also be a date PostgreSQL can hold
 * (years 1900–9999, UTC offsets within ±15:59), so no filter can turn into a database error.
 */
const DateBound = z.iso
  .datetime({ offset: true })
  .or(z.iso.date())
  .refine((value) => {
    const time = Date.parse(value)
    const offset = /([+-])(\d{2}):?(\d{2})$/.exec(value)
    return Number.isFinite(time) && time >= Date.UTC(1900, 0, 1) && time < Date.UTC(10_000, 0, 1) && (!offset || Number(offset[2]) <= 15)
  }, 'must be a real date between 1900 and 9999 with a UTC offset within ±15:59')

export const ListSubmissionsQuery = z.object({
  status: SubmissionStatus.optional(),
  skill: Skill.optional(),
  taskId: z.uuid().optional(),
  /** Inclusive lower bound on createdAt (ISO date or date-time). */
  from: DateBound.optional(),
  /** Exclusive upper bound on createdAt (ISO date or date-time). */
  to: DateBound.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Opaque; pass `nextCursor` of the previous page. */
  cursor: z.string().max(200).optional(),
})
export type ListSubmissionsQuery = z.infer<typeof ListSubmissionsQuery>

export const SubmissionPage = z.object({ items: z.array(SubmissionSummary), nextCursor: z.string().nullable() })
export type SubmissionPage = z.infer<typeof SubmissionPage>

/** Admin catalogue writes. */
export const CreateTaskBody = z
  .object({
    slug: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,79}$/)
      .optional(),
    skill: Skill,
    part: TaskPart,
    title: z.string().trim().min(1).max(200),
    prompt: z.string().trim().min(1).max(10_000),
    minWords: z.int().min(0).max(2_000).default(0),
    timeLimitMinutes: z.int().min(1).max(240),
    preparationSeconds: z.int().min(0).max(3_600).default(0),
    speakingSeconds: z.int().min(1).max(3_600).nullable().default(null),
    level: z.string().trim().min(1).max(20).default('B1-C1'),
    gradingMode: GradingMode.default('auto'),
  })
  .strict()
export type CreateTaskBody = z.infer<typeof CreateTaskBody>

export const UpdateTaskBody = z
  .object({
    title: z.string().trim().min(1).max(200),
    prompt: z.string().trim().min(1).max(10_000),
    minWords: z.int().min(0).max(2_000),
    timeLimitMinutes: z.int().min(1).max(240),
    preparationSeconds: z.int().min(0).max(3_600),
    speakingSeconds: z.int().min(1).max(3_600).nullable(),
    level: z.string().trim().min(1).max(20),
    gradingMode: GradingMode,
  })
  .partial()
  .strict()
export type UpdateTaskBody = z.infer<typeof UpdateTaskBody>

/** One entry of the review queue. */
export const Review = z.object({
  submissionId: z.uuid(),
  priority: ReviewPriority,
  /** Comma-joined ReviewReason values. */
  reason: z.string(),
  reviewerId: z.uuid().nullable(),
  claimedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  createdAt: z.string(),
  submission: SubmissionSummary,
})
export type Review = z.infer<typeof Review>

/** A review with what the reviewer needs: the answer, the AI draft and (once done) the human grade. */
export const ReviewDetail = Review.extend({
  answerText: z.string().nullable(),
  taskPrompt: z.string(),
  aiGrade: Grade.nullable(),
  humanGrade: Grade.nullable(),
  /** |human − AI| overall, when both exist; flagged above GRADING_POLICY.disagreementAbove. */
  difference: z.number().nullable(),
  disagreement: z.boolean(),
})
export type ReviewDetail = z.infer<typeof ReviewDetail>

export const ReviewQueueQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) })

export const AssignReviewBody = z.object({ reviewerId: z.uuid() }).strict()

export const SubmitReviewBody = z
  .object({
    criteria: z
      .array(z.object({ criterion: Criterion, score: Score, feedback: z.string().max(2_000).default('') }).strict())
      .min(1)
      .max(5),
    comment: z.string().trim().max(5_000).default(''),
  })
  .strict()
export type SubmitReviewBody = z.infer<typeof SubmitReviewBody>

export const GradeDisagreement = z.object({
  submissionId: z.uuid(),
  skill: Skill,
  aiOverall: Score,
  humanOverall: Score,
  difference: z.number(),
  reviewerId: z.uuid().nullable(),
  reviewedAt: z.string(),
})

/** Learner progress, shaped for a chart. */
export const ProgressPoint = z.object({
  submissionId: z.uuid(),
  taskId: z.uuid(),
  part: TaskPart,
  overall: Score,
  cefr: CefrLevel,
  source: GradeSource,
  gradedAt: z.string(),
})
export const SkillProgress = z.object({
  skill: Skill,
  /** Graded attempts, oldest first (at most 50). */
  history: z.array(ProgressPoint),
  /** How many attempts the estimate uses (the last PROGRESS_POLICY.window). */
  attemptsInWindow: z.int(),
  status: z.enum(['estimated', 'insufficient_data']),
  band: Score.nullable(),
  cefr: CefrLevel.nullable(),
})
export const Progress = z.object({
  skills: z.array(SkillProgress),
  overall: z.object({ status: z.enum(['estimated', 'insufficient_data']), band: Score.nullable(), cefr: CefrLevel.nullable() }),
})
export type Progress = z.infer<typeof Progress>

/** One state change, as stored in `submission_events` and sent over SSE. */
export const SubmissionEvent = z.object({
  id: z.int(),
  submissionId: z.uuid(),
  from: SubmissionStatus.nullable(),
  to: SubmissionStatus,
  actor: z.string(),
  reason: z.string().nullable(),
  at: z.string(),
})
export type SubmissionEvent = z.infer<typeof SubmissionEvent>
