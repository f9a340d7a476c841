import type { SubmissionStatus } from './vocabulary'

/**
 * The 5-state submission lifecycle. This table is the single source: the API checks it, the Python
 * worker receives it as generated constants, and the database trigger is tested against it.
 */
export const SUBMISSION_TRANSITIONS = {
  pending: ['processing', 'review_pending', 'failed'],
  processing: ['completed', 'review_pending', 'failed'],
  review_pending: ['completed'],
  failed: ['pending'],
  completed: [],
} as const satisfies Record<SubmissionStatus, readonly SubmissionStatus[]>

/**
 * The status sets every program uses; derived from the table or defined once here.
 * - TERMINAL: no way out (`completed`). A submission's SSE stream ends after one: nothing can follow.
 * - FINAL: grading is over, with a result or a failure (`completed`, `failed`). Only a learner's
 *   retry (failed → pending) reopens a failed one. A client following a submission stops here.
 * - AI_GRADING: the grader works on it (`pending`, `processing`). The worker claims only these; the
 *   deadline sweeper fails only these; every other status means the AI grader has nothing to do.
 */
export const TERMINAL_STATUSES = (Object.keys(SUBMISSION_TRANSITIONS) as SubmissionStatus[]).filter(
  (s) => SUBMISSION_TRANSITIONS[s].length === 0,
)
export const FINAL_STATUSES = ['completed', 'failed'] as const satisfies readonly SubmissionStatus[]
export const AI_GRADING_STATUSES = ['pending', 'processing'] as const satisfies readonly SubmissionStatus[]

export const isTerminalStatus = (s: SubmissionStatus): boolean => TERMINAL_STATUSES.includes(s)
export const isFinalStatus = (s: SubmissionStatus): boolean => (FINAL_STATUSES as readonly SubmissionStatus[]).includes(s)
export const isAiGradingStatus = (s: SubmissionStatus): boolean => (AI_GRADING_STATUSES as readonly SubmissionStatus[]).includes(s)

export function canTransition(from: SubmissionStatus, to: SubmissionStatus): boolean {
  return (SUBMISSION_TRANSITIONS[from] as readonly SubmissionStatus[]).includes(to)
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: SubmissionStatus,
    readonly to: SubmissionStatus,
  ) {
    super(`a submission cannot go from ${from} to ${to}`)
  }
}

export function assertTransition(from: SubmissionStatus, to: SubmissionStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to)
}
