import { describe, expect, test } from 'bun:test'
import { cefrOf, overallOf, roundToHalf } from '../src/scoring'
import type { CefrLevel } from '../src/vocabulary'

describe('roundToHalf (round half up to the 0.5 grid)', () => {
  const cases: [number, number][] = [
    [6.25, 6.5],
    [6.75, 7.0],
    [6.24, 6.0],
    [6.26, 6.5],
    [6.0, 6.0],
    [0, 0],
    [10, 10],
    [9.9, 10],
    [6.333333, 6.5],
    [6.2499999999, 6.5], // binary noise just under a half is treated as the half
  ]
  for (const [input, expected] of cases) test(`${input} → ${expected}`, () => expect(roundToHalf(input)).toBe(expected))
  test('refuses non-finite values', () => expect(() => roundToHalf(Number.NaN)).toThrow(RangeError))
})

describe('overallOf', () => {
  test('is the mean of the criteria rounded to 0.5', () => {
    expect(overallOf([6, 6.5, 7, 5.5])).toBe(6.5) // 6.25 → 6.5
    expect(overallOf([5, 5, 5.5, 5])).toBe(5.0) // 5.125 → 5.0
    expect(overallOf([7, 7.5, 8, 8, 7])).toBe(7.5) // 7.5
  })
  test('needs at least one score', () => expect(() => overallOf([])).toThrow(RangeError))
})

describe('cefrOf', () => {
  const cases: [number, CefrLevel][] = [
    [3.5, 'none'],
    [4.0, 'B1'],
    [5.5, 'B1'],
    [6.0, 'B2'],
    [8.0, 'B2'],
    [8.5, 'C1'],
    [10, 'C1'],
  ]
  for (const [score, level] of cases) test(`${score} → ${level}`, () => expect(cefrOf(score)).toBe(level))
})
