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

export const FINAL_STATUSES = ['completed', 'failed'] as const satisfies readonly SubmissionStatus[]

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
