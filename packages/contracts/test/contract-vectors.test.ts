import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CEFR_LABELS, cefrOf, overallOf, roundToHalf } from '../src/scoring'
import { AI_GRADING_STATUSES, FINAL_STATUSES, TERMINAL_STATUSES } from '../src/state-machine'
import type { SubmissionStatus } from '../src/vocabulary'
import { countWords } from '../src/words'

/**
 * The committed vectors (generated/contract-vectors.json) replayed against the TypeScript functions;
 * workers/grader-py/tests/test_contract_vectors.py replays the same file against the Python twins.
 */
type Vector =
  | { fn: 'roundToHalf'; note: string; input: number; expected: number | null }
  | { fn: 'overallOf'; input: number[]; expected: number | null }
  | { fn: 'cefrOf'; input: number; expected: { level: string; label: string } }
  | { fn: 'countWords'; note: string; input: string; expected: number }
  | { fn: 'statusSets'; input: SubmissionStatus; expected: { terminal: boolean; final: boolean; aiGrading: boolean } }

const file = join(import.meta.dir, '../generated/contract-vectors.json')
const vectors = (JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] }).vectors

const refusedOrValue = (run: () => number): number | null => {
  try {
    return run()
  } catch (error) {
    if (error instanceof RangeError) return null
    throw error
  }
}

describe('contract vectors', () => {
  test('cover every shared function, refusals and the binary-noise cases', () => {
    const fns = new Set(vectors.map((v) => v.fn))
    expect([...fns].sort()).toEqual(['cefrOf', 'countWords', 'overallOf', 'roundToHalf', 'statusSets'])
    const rounding = vectors.filter((v) => v.fn === 'roundToHalf')
    expect(rounding.some((v) => v.expected === null)).toBe(true)
    expect(rounding.find((v) => v.input === 6.2499999999)?.expected).toBe(6)
    expect(rounding.find((v) => v.input === 3.2499999999999996)?.expected).toBe(3.5)
  })

  for (const v of vectors) {
    const name = `${v.fn}(${JSON.stringify(v.input)})${'note' in v ? ` ${v.note}` : ''}`
    test(name, () => {
      switch (v.fn) {
        case 'roundToHalf':
          return expect(refusedOrValue(() => roundToHalf(v.input))).toBe(v.expected)
        case 'overallOf':
          return expect(refusedOrValue(() => overallOf(v.input))).toBe(v.expected)
        case 'cefrOf':
          return expect({ level: cefrOf(v.input) as string, label: CEFR_LABELS[cefrOf(v.input)] as string }).toEqual(v.expected)
        case 'countWords':
          return expect(countWords(v.input)).toBe(v.expected)
        case 'statusSets':
          return expect({
            terminal: (TERMINAL_STATUSES as readonly string[]).includes(v.input),
            final: (FINAL_STATUSES as readonly string[]).includes(v.input),
            aiGrading: (AI_GRADING_STATUSES as readonly string[]).includes(v.input),
          }).toEqual(v.expected)
      }
    })
  }
})
