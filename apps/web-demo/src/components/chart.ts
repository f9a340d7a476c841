/**
 * The geometry of the per-skill progress chart: graded attempts (oldest first) to SVG coordinates.
 * Pure (no DOM), so `test/chart.test.ts` checks it under plain `bun test`; `ProgressChart.tsx` turns the
 * layout into `<svg>` elements. No chart library.
 *
 * x: attempts evenly spaced in the order they were graded, `inset` in from the plot's edges (a lone
 *    attempt sits in the middle).
 * y: the score, 0 at the bottom and 10 at the top of the plot area.
 */

/**
 * The CEFR cut-offs the chart draws as dashed guide lines. They are copied here so the page does
 * not import `@vstep/contracts` values (that would pull zod into the bundle); the unit test checks
 * they equal `CEFR_CUTOFFS`.
 */
export const CEFR_GUIDES = [
  { level: 'B1', from: 4.0 },
  { level: 'B2', from: 6.0 },
  { level: 'C1', from: 8.5 },
] as const

/** `PROGRESS_POLICY.minAttempts`, copied for the same reason (checked by the unit test). */
export const MIN_ATTEMPTS = 3

export const SCORE_MAX = 10

export type ChartOptions = {
  width: number
  height: number
  /** Room around the plot area: y-axis labels on the left, point labels above. */
  padding: { top: number; right: number; bottom: number; left: number }
  /** Horizontal gap between the plot edges and the first/last point, so point labels clear the axis labels. */
  inset: number
}

export const DEFAULT_CHART: ChartOptions = {
  width: 280,
  height: 140,
  padding: { top: 16, right: 22, bottom: 8, left: 24 },
  inset: 14,
}

export type ChartPoint = { x: number; y: number; score: number; label: string }
export type ChartGuide = { y: number; score: number; level: string; label: string }

export type ChartLayout = {
  width: number
  height: number
  /** The plot area, in SVG user units. */
  plot: { left: number; right: number; top: number; bottom: number }
  points: ChartPoint[]
  /** `M x y L x y …`; empty without points. One point: a single `M`, drawn as a dot only. */
  path: string
  guides: ChartGuide[]
  /** y-axis labels on the left: 0, the cut-offs and 10. Guides name their level on the right. */
  ticks: { y: number; label: string }[]
}

/** Scores are on the 0.5 grid; the page shows them with one decimal, as the grade view does. */
export const formatScore = (score: number) => score.toFixed(1)

const round2 = (n: number) => Math.round(n * 100) / 100
const clampScore = (s: number) => Math.min(SCORE_MAX, Math.max(0, s))

export function layoutChart(scores: readonly number[], options: ChartOptions = DEFAULT_CHART): ChartLayout {
  const { width, height, padding, inset } = options
  const plot = { left: padding.left, right: width - padding.right, top: padding.top, bottom: height - padding.bottom }
  const plotWidth = plot.right - plot.left - 2 * inset
  const plotHeight = plot.bottom - plot.top
  const yOf = (score: number) => round2(plot.bottom - (clampScore(score) / SCORE_MAX) * plotHeight)
  const xOf = (i: number) => round2(plot.left + inset + (scores.length === 1 ? plotWidth / 2 : (i / (scores.length - 1)) * plotWidth))

  const points = scores.map((score, i) => ({ x: xOf(i), y: yOf(score), score, label: formatScore(score) }))
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x} ${p.y}`).join(' ')
  const guides = CEFR_GUIDES.map((g) => ({ y: yOf(g.from), score: g.from, level: g.level, label: g.level }))
  const ticks = [0, ...CEFR_GUIDES.map((g) => g.from), SCORE_MAX].map((s) => ({ y: yOf(s), label: String(s) }))
  return { width, height, plot, points, path, guides, ticks }
}

/** The chart's `aria-label`: what a sighted reader gets from the line, in one sentence. */
export function describeSeries(skillName: string, scores: readonly number[]): string {
  if (scores.length === 0) return `${skillName}: no graded attempts yet.`
  const n = scores.length
  const head = `${skillName} scores out of 10, ${n} graded ${n === 1 ? 'attempt' : 'attempts'}, oldest first: ${scores.map(formatScore).join(', ')}.`
  if (n === 1) return head
  const first = scores[0]!
  const last = scores[n - 1]!
  const trend = last > first ? `up ${formatScore(last - first)}` : last < first ? `down ${formatScore(first - last)}` : 'unchanged'
  return `${head} Latest ${formatScore(last)}, ${trend} since the first; best ${formatScore(Math.max(...scores))}.`
}
