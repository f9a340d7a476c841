import { z } from 'zod'

/**
 * Who changed a submission, as recorded in `submission_events.actor` (through the transaction-local
 * setting `vstep.actor`). The database trigger writes `system` when a writer set nothing.
 */
export const ACTORS = {
  /** The database default: a writer that set no actor. */
  system: 'system',
  /** The API's deadline sweeper. */
  sweeper: 'system:sweeper',
  /** The Python grading worker. */
  worker: 'worker',
} as const
/** A person acting through the API (learner, reviewer, admin). */
export const userActor = (userId: string): `user:${string}` => `user:${userId}`

/**
 * Why grading failed, in `submissions.last_error_code`. `timeout` is written by the API's deadline
 * sweeper (a grade arriving after it is kept as a late result); the rest by the worker.
 */
export const LAST_ERROR_CODES = [
  'timeout',
  'invalid_payload',
  'task_not_found',
  'no_answer_text',
  'transcription_unavailable',
  /** Speaking: the stored recording is missing, or the decoder cannot read it (corrupt, truncated). */
  'audio_unreadable',
  /** Speaking: the recording holds no speech the recogniser could hear (silence, noise). */
  'no_speech',
  'invalid_grade',
  'retries_exhausted',
  'internal_error',
  /** A paid provider stayed unavailable (429, timeouts, 5xx, an open circuit breaker) through every try. */
  'provider_unavailable',
  /** A provider refused the request for good (a 4xx other than 408/429: bad key, unknown model). */
  'provider_rejected',
] as const
export const LastErrorCode = z.enum(LAST_ERROR_CODES)
export type LastErrorCode = z.infer<typeof LastErrorCode>

/** The fixed `submission_events.reason` values (the worker's grading reasons are sentences). */
export const EVENT_REASONS = {
  /** The learner asked for a failed submission to be graded again (failed → pending). */
  retry: 'retry',
  /** A reviewer's grade (review_pending → completed, or completed → completed for a spot check). */
  review: 'review',
  /** The grading deadline passed (the sweeper); the same word as the error code. */
  timeout: 'timeout',
  /** The worker claimed the submission (pending → processing). */
  gradingStarted: 'grading started',
} as const satisfies Record<string, string>
