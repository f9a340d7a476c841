import type { CefrLevel } from './vocabulary'

/**
 * How a score is read before it is rounded: as the decimal it means, to this many places. A double
 * such as 0.01 + 2.34 + 0.9 is 3.2499999999999996 in binary, but means 3.25; 12 places keep every
 * decimal a person or the database writes (numeric(3,1), means of a few criteria) exact, and drop
 * binary noise, which for values up to 10 sits around the 15th place.
 */
export const SCORE_DECIMALS = 12

/** The score range: 0 to 10 (VSTEP bands). */
export const SCORE_MIN = 0
export const SCORE_MAX = 10

const TEN = 10n
const scale = TEN ** BigInt(SCORE_DECIMALS)

/**
 * `value` in units of 10^-places, rounded half away from zero, with integer maths on its shortest
 * round-trip decimal (`String(value)`; Python's `repr` gives the same digits). No binary arithmetic
 * touches the value, so the result is the same in every language that follows these steps.
 */
export function decimalUnits(value: number, places: number): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(String(value))
  if (!match) throw new RangeError(`not a finite number: ${value}`)
  const [, sign, whole, fraction = '', exponent = '0'] = match
  const digits = BigInt(`${whole}${fraction}`)
  const shift = Number(exponent) - fraction.length + places
  let units: bigint
  if (shift >= 0) units = digits * TEN ** BigInt(shift)
  else {
    const divisor = TEN ** BigInt(-shift)
    units = digits / divisor
    if (2n * (digits % divisor) >= divisor) units += 1n
  }
  return sign === '-' ? -units : units
}

/**
 * Round to the nearest 0.5, halves going up (6.25 → 6.5, 6.75 → 7.0), on the decimal value read to
 * SCORE_DECIMALS places: 6.2499999999 → 6.0, while 3.2499999999999996 (binary noise of 3.25) → 3.5.
 * VSTEP does not publish a tie rule; round-half-up is the common practice. A value outside 0–10
 * (after reading it to 12 places) is a RangeError, not clamped: it is a bug upstream.
 * Twin: `round_half_up_to_half` in workers/grader-py (scoring/base.py); both pass
 * generated/contract-vectors.json.
 */
export function roundToHalf(value: number): number {
  if (!Number.isFinite(value) || value < SCORE_MIN - 1 || value > SCORE_MAX + 1) throw new RangeError(`not a score: ${value}`)
  const units = decimalUnits(value, SCORE_DECIMALS)
  if (units < BigInt(SCORE_MIN) * scale || units > BigInt(SCORE_MAX) * scale) throw new RangeError(`not a score: ${value}`)
  // Half-steps, rounded half up: floor(units / (scale / 2) + 1 / 2) = floor((2 * units + scale / 2) / scale).
  const halves = (2n * units + scale / 2n) / scale
  return Number(halves) / 2
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

/** The level of a band score; `none` below 4.0 (the code the API returns and the database stores). */
export function cefrOf(score: number): CefrLevel {
  for (const cut of CEFR_CUTOFFS) if (score >= cut.from) return cut.level
  return 'none'
}

/** How a level reads to a person: `none` is "below B1" (web page, worker feedback). */
export const CEFR_LABELS = { none: 'below B1', B1: 'B1', B2: 'B2', C1: 'C1' } as const satisfies Record<CefrLevel, string>
