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
  level: z.string(),
  gradingMode: GradingMode,
})
export type Task = z.infer<typeof Task>

/** Text answers are JSON; audio answers arrive as multipart (grading issue). */
export const CreateSubmissionBody = z
  .object({
    taskId: z.uuid(),
    answerText: z.string().trim().min(1, 'answerText must not be empty').max(20_000),
  })
  .strict()
export type CreateSubmissionBody = z.infer<typeof CreateSubmissionBody>

export const GradeCriterion = z.object({ criterion: Criterion, score: Score, feedback: z.string() })
export const Grade = z.object({
  id: z.uuid(),
  source: GradeSource,
  overall: Score,
  cefr: CefrLevel,
  criteria: z.array(GradeCriterion),
  feedback: z.string(),
  provider: z.string(),
  model: z.string(),
  rubricVersion: z.string(),
  confidence: z.number(),
  createdAt: z.string(),
})
export type Grade = z.infer<typeof Grade>

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
  createdAt: z.string(),
  updatedAt: z.string(),
  grades: z.array(Grade),
})
export type Submission = z.infer<typeof Submission>

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
