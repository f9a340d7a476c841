import { describe, expect, test } from 'bun:test'
import { AI_GRADING_STATUSES, FINAL_STATUSES, SUBMISSION_TRANSITIONS, TERMINAL_STATUSES } from '../src/state-machine'

describe('status sets', () => {
  test('terminal statuses are exactly those with no way out', () => expect(TERMINAL_STATUSES).toEqual(['completed']))
  test('every terminal status is final; failed is final but can be retried', () => {
    for (const s of TERMINAL_STATUSES) expect(FINAL_STATUSES as readonly string[]).toContain(s)
    expect(FINAL_STATUSES).toContain('failed')
    expect(SUBMISSION_TRANSITIONS.failed).toEqual(['pending'])
  })
  test('AI grading statuses can still move to every outcome the grader decides', () => {
    for (const s of AI_GRADING_STATUSES)
      for (const to of ['review_pending', 'failed'] as const) expect(SUBMISSION_TRANSITIONS[s] as readonly string[]).toContain(to)
    expect(AI_GRADING_STATUSES.some((s) => (FINAL_STATUSES as readonly string[]).includes(s))).toBe(false)
  })
})
