import { describe, expect, test } from 'bun:test'
import { CEFR_LABELS, cefrOf, decimalUnits, overallOf, roundToHalf } from '../src/scoring'
import type { CefrLevel } from '../src/vocabulary'

describe('roundToHalf (round half up to the 0.5 grid, on the decimal value to 12 places)', () => {
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
    [6.2499999999, 6.0], // a decimal below the half, exactly: down
    [0.01 + 2.34 + 0.9, 3.5], // 3.2499999999999996 in binary, 3.25 as a decimal: up
    [0.03 + 1.12 + 0.1, 1.5], // 1.2500000000000002
    [3.7499999999995, 4.0], // read to 12 places, the 13th rounds up into the tie
    [3.7499999999994, 3.5],
  ]
  for (const [input, expected] of cases) test(`${input} → ${expected}`, () => expect(roundToHalf(input)).toBe(expected))
  test('refuses non-finite values', () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) expect(() => roundToHalf(v)).toThrow(RangeError)
  })
  test('refuses values outside 0–10 instead of clamping them', () => {
    for (const v of [-0.5, -1e-9, 10.25, 10.000000001, 1e300]) expect(() => roundToHalf(v)).toThrow(RangeError)
  })
  test('never returns negative zero', () => expect(Object.is(roundToHalf(-4e-13), 0)).toBe(true))
})

describe('decimalUnits (integer maths on the shortest decimal)', () => {
  test('reads plain and exponent notation', () => {
    expect(decimalUnits(6.25, 2)).toBe(625n)
    expect(decimalUnits(1.5e-7, 8)).toBe(15n)
    expect(decimalUnits(1e21, 0)).toBe(10n ** 21n)
    expect(decimalUnits(-2.5, 0)).toBe(-3n) // half away from zero
    expect(decimalUnits(0.30000000000000004, 12)).toBe(300_000_000_000n)
  })
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
  const cases: [number, CefrLevel, string][] = [
    [3.5, 'none', 'below B1'],
    [4.0, 'B1', 'B1'],
    [5.5, 'B1', 'B1'],
    [6.0, 'B2', 'B2'],
    [8.0, 'B2', 'B2'],
    [8.5, 'C1', 'C1'],
    [10, 'C1', 'C1'],
  ]
  for (const [score, level, label] of cases) {
    test(`${score} → ${level} (${label})`, () => {
      expect(cefrOf(score)).toBe(level)
      expect(CEFR_LABELS[cefrOf(score)] as string).toBe(label)
    })
  }
})
