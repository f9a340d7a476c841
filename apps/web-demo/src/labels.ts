import type { Grade, GradeOrigin } from '@vstep/contracts'
import { CEFR_LABELS } from '@vstep/contracts/scoring'

/** Words the page shows for the API's codes. */
export const CRITERION_LABELS: Record<string, string> = {
  task_fulfilment: 'Task fulfilment',
  organisation: 'Organisation',
  vocabulary: 'Vocabulary',
  grammar: 'Grammar',
  pronunciation: 'Pronunciation',
  fluency: 'Fluency',
  discourse_management: 'Discourse management',
}
export const criterionLabel = (c: string) => CRITERION_LABELS[c] ?? c

export const STATUS_LABELS: Record<string, string> = {
  pending: 'Pending — queued for grading',
  processing: 'Processing — the grader is reading your answer',
  completed: 'Completed — your score is ready',
  review_pending: 'Waiting for a human reviewer',
  failed: 'Failed — grading could not finish',
}
export const SHORT_STATUS: Record<string, string> = {
  pending: 'Pending',
  processing: 'Processing',
  completed: 'Completed',
  review_pending: 'In review',
  failed: 'Failed',
}

/** What a `lastErrorCode` / event reason means to a learner. */
export const FAILURE_REASONS: Record<string, string> = {
  timeout: 'Grading took longer than the deadline allows.',
  retries_exhausted: 'The grading service kept failing and gave up after several tries.',
  internal_error: 'The grader hit an unexpected error.',
  invalid_payload: 'The grading job was malformed.',
  invalid_grade: 'The grader produced an invalid grade.',
  task_not_found: 'The task no longer exists.',
  no_answer_text: 'The answer had no text.',
  transcription_unavailable: 'The recording could not be transcribed.',
  provider_unavailable: 'The grading service was unavailable.',
  audio_unreadable: 'The recording could not be read.',
}
/** How an AI grade came about (`origin`, docs/grading.md), in a learner's words. */
export const GRADE_ORIGIN_LABELS: Record<GradeOrigin, string> = {
  provider: 'Graded automatically',
  reused: 'Graded automatically: the same answer to this task was graded before, and that grade was reused',
  fallback: 'Graded again by the offline scorer: the grading service was unavailable',
}
export const gradeOriginLabel = (grade: Pick<Grade, 'source' | 'origin'>) =>
  grade.source === 'human' ? 'Graded by a teacher' : GRADE_ORIGIN_LABELS[grade.origin ?? 'provider']

/** A timeline line: a `completed → completed` event is a teacher's spot check of a finished result. */
export const eventLabel = (e: { from: string | null; to: string }) =>
  e.from === 'completed' && e.to === 'completed' ? 'Reviewed — a teacher checked your score' : (STATUS_LABELS[e.to] ?? e.to)

export const failureReason = (code: string | null | undefined) =>
  code ? (FAILURE_REASONS[code] ?? code.replaceAll('_', ' ')) : 'No reason was recorded.'

export const SKILL_LABELS: Record<string, string> = { writing: 'Writing', speaking: 'Speaking' }
export const skillLabel = (skill: string) => SKILL_LABELS[skill] ?? skill

export const partLabel = (part: string) =>
  part
    .replace(/^writing_task_(\d)$/, 'Task $1')
    .replace(/^speaking_part_(\d)$/, 'Part $1')
    .replaceAll('_', ' ')

/** CEFR `none` (a band below 4.0) reads better as words: the contract's label ("below B1"). */
export const cefrLabel = (cefr: keyof typeof CEFR_LABELS | null) => (cefr === null ? '—' : CEFR_LABELS[cefr])

export const formatTime = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
export const formatDateTime = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })

/**
 * The rubric's criteria per skill, copied so the bundle does not import zod through the contracts'
 * vocabulary module; test/labels.test.ts checks they equal `criteriaForSkill`.
 */
export const CRITERIA_BY_SKILL = {
  writing: ['task_fulfilment', 'organisation', 'vocabulary', 'grammar'],
  speaking: ['grammar', 'vocabulary', 'pronunciation', 'fluency', 'discourse_management'],
} as const

/** Age of a timestamp in words: "5 min", "3 h", "2 d". */
export function ageOf(iso: string, now = Date.now()): string {
  const minutes = Math.max(0, Math.floor((now - Date.parse(iso)) / 60_000))
  if (minutes < 60) return `${minutes} min`
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h`
  return `${Math.floor(minutes / 1440)} d`
}
