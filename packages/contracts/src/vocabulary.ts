import { z } from 'zod'

/** The shared words of the platform. Every enum here is also a PostgreSQL enum (packages/db). */
export const SKILLS = ['writing', 'speaking'] as const
export const Skill = z.enum(SKILLS)
export type Skill = z.infer<typeof Skill>

export const TASK_PARTS = ['writing_task_1', 'writing_task_2', 'speaking_part_1', 'speaking_part_2', 'speaking_part_3'] as const
export const TaskPart = z.enum(TASK_PARTS)
export type TaskPart = z.infer<typeof TaskPart>

export const SUBMISSION_STATUSES = ['pending', 'processing', 'completed', 'review_pending', 'failed'] as const
export const SubmissionStatus = z.enum(SUBMISSION_STATUSES)
export type SubmissionStatus = z.infer<typeof SubmissionStatus>

export const GRADING_MODES = ['auto', 'human', 'hybrid'] as const
export const GradingMode = z.enum(GRADING_MODES)
export type GradingMode = z.infer<typeof GradingMode>

export const REVIEW_PRIORITIES = ['low', 'medium', 'high'] as const
export const ReviewPriority = z.enum(REVIEW_PRIORITIES)
export type ReviewPriority = z.infer<typeof ReviewPriority>

export const GRADE_SOURCES = ['ai', 'human'] as const
export const GradeSource = z.enum(GRADE_SOURCES)
export type GradeSource = z.infer<typeof GradeSource>

export const USER_ROLES = ['learner', 'instructor', 'admin'] as const
export const UserRole = z.enum(USER_ROLES)
export type UserRole = z.infer<typeof UserRole>

export const CEFR_LEVELS = ['none', 'B1', 'B2', 'C1'] as const
export const CefrLevel = z.enum(CEFR_LEVELS)
export type CefrLevel = z.infer<typeof CefrLevel>

/** VSTEP rubric criteria. Writing uses four, Speaking five; grammar and vocabulary are shared. */
export const WRITING_CRITERIA = ['task_fulfilment', 'organisation', 'vocabulary', 'grammar'] as const
export const SPEAKING_CRITERIA = ['grammar', 'vocabulary', 'pronunciation', 'fluency', 'discourse_management'] as const
export const CRITERIA = [
  'task_fulfilment',
  'organisation',
  'vocabulary',
  'grammar',
  'pronunciation',
  'fluency',
  'discourse_management',
] as const
export const Criterion = z.enum(CRITERIA)
export type Criterion = z.infer<typeof Criterion>

export const criteriaForSkill = (skill: Skill): readonly Criterion[] => (skill === 'writing' ? WRITING_CRITERIA : SPEAKING_CRITERIA)

export const skillOfPart = (part: TaskPart): Skill => (part.startsWith('writing') ? 'writing' : 'speaking')

/** A VSTEP band score: 0 to 10 in steps of 0.5. */
export const Score = z.number().min(0).max(10).multipleOf(0.5)
export type Score = z.infer<typeof Score>
