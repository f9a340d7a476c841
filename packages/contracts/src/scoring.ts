import type { CefrLevel } from './vocabulary'

/**
 * Round to the nearest 0.5, halves going up (6.25 → 6.5, 6.75 → 7.0). VSTEP does not publish a tie
 * rule; round-half-up is the common practice. The epsilon absorbs binary noise such as 6.2499999.
 */
export function roundToHalf(value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite score: ${value}`)
  const rounded = Math.floor(value * 2 + 0.5 + 1e-9) / 2
  return Math.min(10, Math.max(0, rounded))
}

/** The overall of one grade: the mean of its criterion scores, rounded to 0.5. */
export function overallOf(scores: readonly number[]): number {
  if (scores.length === 0) throw new RangeError('a grade needs at least one criterion score')
  return roundToHalf(scores.reduce((a, b) => a + b, 0) / scores.length)
}

/** CEFR cut-offs: below 4.0 none, 4.0–5.5 B1, 6.0–8.0 B2, 8.5–10 C1. */
export const CEFR_CUTOFFS = [
  { level: 'C1', from: 8.5 },
  { level: 'B2', from: 6.0 },
  { level: 'B1', from: 4.0 },
] as const satisfies readonly { level: CefrLevel; from: number }[]

export function cefrOf(score: number): CefrLevel {
  for (const cut of CEFR_CUTOFFS) if (score >= cut.from) return cut.level
  return 'none'
}
