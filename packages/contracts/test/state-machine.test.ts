import { describe, expect, test } from 'bun:test'
import { assertTransition, canTransition, IllegalTransitionError, SUBMISSION_TRANSITIONS } from '../src/state-machine'
import { SUBMISSION_STATUSES } from '../src/vocabulary'

describe('submission state machine', () => {
  const legal = new Set([
    'pending>processing',
    'pending>review_pending',
    'pending>failed',
    'processing>completed',
    'processing>review_pending',
    'processing>failed',
    'review_pending>completed',
    'failed>pending',
  ])
  for (const from of SUBMISSION_STATUSES) {
    for (const to of SUBMISSION_STATUSES) {
      const expected = legal.has(`${from}>${to}`)
      test(`${from} → ${to} is ${expected ? 'allowed' : 'refused'}`, () => {
        expect(canTransition(from, to)).toBe(expected)
        if (expected) expect(() => assertTransition(from, to)).not.toThrow()
        else expect(() => assertTransition(from, to)).toThrow(IllegalTransitionError)
      })
    }
  }
  test('completed is terminal', () => expect(SUBMISSION_TRANSITIONS.completed).toEqual([]))
})
