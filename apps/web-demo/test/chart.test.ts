import { describe, expect, test } from 'bun:test'
import { CEFR_CUTOFFS, PROGRESS_POLICY } from '@vstep/contracts'
import { CEFR_GUIDES, DEFAULT_CHART, describeSeries, layoutChart, MIN_ATTEMPTS } from '../src/components/chart'

const opts = { width: 120, height: 110, padding: { top: 5, right: 10, bottom: 5, left: 10 }, inset: 0 } // plot: x 10..110, y 5..105

describe('layoutChart', () => {
  test('maps scores 0..10 to the plot area, bottom to top, evenly spaced oldest to latest', () => {
    const chart = layoutChart([0, 5, 10], opts)
    expect(chart.plot).toEqual({ left: 10, right: 110, top: 5, bottom: 105 })
    expect(chart.points).toEqual([
      { x: 10, y: 105, score: 0, label: '0.0' },
      { x: 60, y: 55, score: 5, label: '5.0' },
      { x: 110, y: 5, score: 10, label: '10.0' },
    ])
    expect(chart.path).toBe('M10 105 L60 55 L110 5')
  })

  test('dashed guides at the CEFR cut-offs 4.0 / 6.0 / 8.5, and y labels 0, cut-offs, 10', () => {
    const chart = layoutChart([6.5], opts)
    expect(chart.guides.map((g) => [g.level, g.score, g.y])).toEqual([
      ['B1', 4, 65],
      ['B2', 6, 45],
      ['C1', 8.5, 20],
    ])
    expect(chart.ticks.map((t) => t.label)).toEqual(['0', '4', '6', '8.5', '10'])
  })

  test('one point sits in the middle and the path is a lone move; no points, no path', () => {
    const one = layoutChart([6.5], opts)
    expect(one.points).toEqual([{ x: 60, y: 40, score: 6.5, label: '6.5' }])
    expect(one.path).toBe('M60 40')
    const none = layoutChart([], opts)
    expect(none.points).toEqual([])
    expect(none.path).toBe('')
  })

  test('inset keeps the first and last points off the plot edges', () => {
    const chart = layoutChart([5, 7], { ...opts, inset: 20 })
    expect(chart.points.map((p) => p.x)).toEqual([30, 90])
    expect(chart.guides[0]).toMatchObject({ y: 65 }) // guides still span the whole plot (main.ts draws plot.left..plot.right)
  })

  test('coordinates are rounded to 0.01 and stay inside the default viewBox', () => {
    const scores = [4.5, 6, 8, 3.5, 9.5, 7, 10]
    const chart = layoutChart(scores)
    expect(chart.width).toBe(DEFAULT_CHART.width)
    for (const p of chart.points) {
      expect(p.x).toBe(Math.round(p.x * 100) / 100)
      expect(p.x).toBeGreaterThanOrEqual(chart.plot.left)
      expect(p.x).toBeLessThanOrEqual(chart.plot.right)
      expect(p.y).toBeGreaterThanOrEqual(chart.plot.top)
      expect(p.y).toBeLessThanOrEqual(chart.plot.bottom)
    }
    // Higher score, higher on the page (smaller y).
    expect(chart.points[4]!.y).toBeLessThan(chart.points[3]!.y)
    expect(chart.path.split(' L')).toHaveLength(scores.length)
  })
})

describe('describeSeries', () => {
  test('summarises the series for the aria-label', () => {
    expect(describeSeries('Writing', [])).toBe('Writing: no graded attempts yet.')
    expect(describeSeries('Writing', [6.5])).toBe('Writing scores out of 10, 1 graded attempt, oldest first: 6.5.')
    expect(describeSeries('Writing', [4.5, 6, 8])).toBe(
      'Writing scores out of 10, 3 graded attempts, oldest first: 4.5, 6.0, 8.0. Latest 8.0, up 3.5 since the first; best 8.0.',
    )
    expect(describeSeries('Speaking', [7, 5])).toContain('Latest 5.0, down 2.0 since the first; best 7.0.')
    expect(describeSeries('Speaking', [5, 5])).toContain('unchanged')
  })
})

describe('copied policy numbers', () => {
  test('the guides are the contract CEFR cut-offs and the threshold is PROGRESS_POLICY.minAttempts', () => {
    const plain = (cuts: readonly { level: string; from: number }[]) =>
      cuts.map((c): { level: string; from: number } => ({ level: c.level, from: c.from })).sort((a, b) => a.from - b.from)
    expect(plain(CEFR_GUIDES)).toEqual(plain(CEFR_CUTOFFS))
    expect(MIN_ATTEMPTS).toBe(PROGRESS_POLICY.minAttempts)
  })
})
