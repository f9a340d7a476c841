import { CEFR_CUTOFFS } from './scoring'
import type { GradingMode, ReviewPriority, Skill } from './vocabulary'

/**
 * THE grading policy: every rule and threshold that decides where a graded answer goes (final,
 * or to a human and with which priority), how long grading may take, and how reviews are run.
 * The API reads it directly; the Python worker gets the same numbers as generated constants, and
 * generated test vectors prove its routing twin decides alike (docs/grading.md).
 * Change a number here, nowhere else.
 */
export const GRADING_POLICY = {
  /** Hybrid: an AI confidence below this goes to review with HIGH priority. */
  lowConfidenceBelow: 0.5,
  /** Hybrid: an AI confidence below this (and at least lowConfidenceBelow) goes to review with MEDIUM priority. */
  mediumConfidenceBelow: 0.7,
  /** Hybrid: an AI overall within ± this of a CEFR cut-off (4.0 / 6.0 / 8.5) goes to review with HIGH priority. */
  nearCutoffMargin: 0.25,
  /** The cut-offs the margin is measured from (from CEFR_CUTOFFS). */
  cutoffs: CEFR_CUTOFFS.map((c) => c.from).sort((a, b) => a - b) as readonly number[],
  /** Share of auto-accepted results (auto mode, or hybrid without a reason) sampled for a LOW-priority spot check. */
  spotCheckShare: 0.05,
  /** Grading deadline from creation (or retry), by skill. review_pending has none. */
  deadlineMinutes: { writing: 20, speaking: 60 } as const satisfies Record<Skill, number>,
  /** A review claim older than this may be taken over by another reviewer. */
  claimTakeoverMinutes: 15,
  /** A human overall differing from the AI overall by more than this is flagged for the admin audit. */
  disagreementAbove: 0.5,
  /** Priority of a review created by `human` mode (no AI grade to judge by). */
  humanModePriority: 'medium' as ReviewPriority,
} as const

/** Why an answer goes to review. Stored (comma-joined) in reviews.reason. */
export const REVIEW_REASONS = [
  'human_mode',
  'ai_failed',
  'low_confidence',
  'medium_confidence',
  'near_cutoff',
  'off_topic',
  'too_short',
  'spot_check',
] as const
export type ReviewReason = (typeof REVIEW_REASONS)[number]

/** Priority of each reason; a review with several reasons takes the highest. */
export const REVIEW_REASON_PRIORITY: Record<ReviewReason, ReviewPriority> = {
  human_mode: 'medium',
  ai_failed: 'high',
  low_confidence: 'high',
  near_cutoff: 'high',
  medium_confidence: 'medium',
  off_topic: 'medium',
  too_short: 'medium',
  spot_check: 'low',
}

const PRIORITY_RANK: Record<ReviewPriority, number> = { low: 0, medium: 1, high: 2 }
export const higherPriority = (a: ReviewPriority, b: ReviewPriority): ReviewPriority => (PRIORITY_RANK[a] >= PRIORITY_RANK[b] ? a : b)

export function isNearCutoff(overall: number, margin = GRADING_POLICY.nearCutoffMargin): boolean {
  return GRADING_POLICY.cutoffs.some((cut) => Math.abs(overall - cut) <= margin + 1e-9)
}

/** What the grader knows about one AI result when it decides where the submission goes. */
export type RoutingInput = {
  mode: GradingMode
  /** null when the AI failed for good (permanent error or retries spent). */
  ai: { overall: number; confidence: number; offTopic: boolean } | null
  wordCount: number
  minWords: number
  /** A uniform draw in [0, 1) for the spot-check sample; injectable so tests are deterministic. */
  spotCheckDraw: number
}

export type RoutingDecision =
  | { status: 'completed'; review: null }
  /** Completed for the learner, but a reviewer re-grades it; the human grade then becomes final. */
  | { status: 'completed'; review: { priority: ReviewPriority; reasons: ReviewReason[] } }
  | { status: 'review_pending'; review: { priority: ReviewPriority; reasons: ReviewReason[] } }
  | { status: 'failed'; review: null }

/**
 * The routing rules, in order:
 * - human: review_pending, medium (no AI job runs at all).
 * - AI failed for good: auto → failed; hybrid → review_pending, high.
 * - hybrid: every matching reason among low confidence, medium confidence, near a cut-off, off-topic,
 *   too short (< minWords) sends it to review_pending with the highest priority of its reasons.
 * - otherwise (auto, or hybrid without a reason) the AI grade is final: completed, and with
 *   probability spotCheckShare it is also queued for a low-priority spot check.
 */
export function routeGrade(input: RoutingInput, policy = GRADING_POLICY): RoutingDecision {
  if (input.mode === 'human') return { status: 'review_pending', review: { priority: policy.humanModePriority, reasons: ['human_mode'] } }
  if (!input.ai) {
    return input.mode === 'hybrid'
      ? { status: 'review_pending', review: { priority: 'high', reasons: ['ai_failed'] } }
      : { status: 'failed', review: null }
  }
  if (input.mode === 'hybrid') {
    const reasons: ReviewReason[] = []
    if (input.ai.confidence < policy.lowConfidenceBelow) reasons.push('low_confidence')
    else if (input.ai.confidence < policy.mediumConfidenceBelow) reasons.push('medium_confidence')
    if (isNearCutoff(input.ai.overall, policy.nearCutoffMargin)) reasons.push('near_cutoff')
    if (input.ai.offTopic) reasons.push('off_topic')
    if (input.minWords > 0 && input.wordCount < input.minWords) reasons.push('too_short')
    if (reasons.length > 0) {
      const priority = reasons.map((r) => REVIEW_REASON_PRIORITY[r]).reduce(higherPriority)
      return { status: 'review_pending', review: { priority, reasons } }
    }
  }
  if (input.spotCheckDraw < policy.spotCheckShare) return { status: 'completed', review: { priority: 'low', reasons: ['spot_check'] } }
  return { status: 'completed', review: null }
}

/** Size limits of a text answer, checked by the API before anything is stored. */
export const ANSWER_LIMITS = {
  maxChars: 20_000,
  maxWords: 3_000,
  /** Idempotency-Key header: 1–255 visible ASCII characters. */
  idempotencyKeyPattern: /^[\x21-\x7e]{1,255}$/,
} as const

/**
 * Spoken answers: the containers accepted (recognised from the bytes, whatever the client declares).
 * Size and duration limits are configuration (AUDIO_MAX_BYTES, AUDIO_MAX_SECONDS in the API).
 */
export const AUDIO_LIMITS = {
  mediaTypes: ['audio/wav', 'audio/webm', 'audio/ogg', 'audio/mpeg', 'audio/mp4'],
  /** The multipart field names of an audio answer. */
  fields: { taskId: 'taskId', audio: 'audio' },
} as const

/** Learner progress: window and minimum of graded attempts per skill; Writing weights Task 2 double. */
export const PROGRESS_POLICY = {
  window: 10,
  minAttempts: 3,
  writingWeights: { writing_task_1: 1, writing_task_2: 2 },
} as const
