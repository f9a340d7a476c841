import { describe, expect, test } from 'bun:test'
import { estimateOverall, estimateSkill, type GradedAttempt } from '../../src/progress/maths'

const at = (i: number) => new Date(Date.UTC(2030, 0, 1) + i * 3_600_000)
const w = (part: 'writing_task_1' | 'writing_task_2', overall: number, i: number): GradedAttempt => ({
  skill: 'writing',
  part,
  overall,
  gradedAt: at(i),
})
const s = (overall: number, i: number): GradedAttempt => ({ skill: 'speaking', part: 'speaking_part_1', overall, gradedAt: at(i) })

describe('estimateSkill', () => {
  test('fewer than 3 attempts: insufficient data', () => {
    expect(estimateSkill('writing', [w('writing_task_1', 6, 1), w('writing_task_2', 6, 2)])).toMatchObject({
      status: 'insufficient_data',
      band: null,
      cefr: null,
      attemptsInWindow: 2,
    })
  })

  test('Writing = (Task 1 + 2 × Task 2) / 3, rounded half up to 0.5', () => {
    // T1 mean 5, T2 mean 6.5 → (5 + 13) / 3 = 6.0
    expect(estimateSkill('writing', [w('writing_task_1', 5, 1), w('writing_task_2', 6, 2), w('writing_task_2', 7, 3)])).toMatchObject({
      status: 'estimated',
      band: 6,
      cefr: 'B2',
    })
    // T1 4, T2 5.5 → (4 + 11) / 3 = 5.0
    expect(estimateSkill('writing', [w('writing_task_1', 4, 1), w('writing_task_2', 5.5, 2), w('writing_task_2', 5.5, 3)]).band).toBe(5)
    // T1 6, T2 6.5 → 19/3 = 6.333 → 6.5
    expect(estimateSkill('writing', [w('writing_task_1', 6, 1), w('writing_task_2', 6.5, 2), w('writing_task_2', 6.5, 3)]).band).toBe(6.5)
    // T1 3.5 T2 4.5 → 12.5/3 = 4.1667 → 4.0, B1
    expect(estimateSkill('writing', [w('writing_task_1', 3.5, 1), w('writing_task_2', 4.5, 2), w('writing_task_1', 3.5, 3)])).toMatchObject(
      { band: 4, cefr: 'B1' },
    )
  })

  test('only one writing task in the window: its mean', () => {
    expect(estimateSkill('writing', [w('writing_task_2', 7, 1), w('writing_task_2', 8, 2), w('writing_task_2', 8, 3)]).band).toBe(7.5)
  })

  test('uses only the last 10 attempts of that skill', () => {
    const old = Array.from({ length: 5 }, (_, i) => s(2, i))
    const recent = Array.from({ length: 10 }, (_, i) => s(9, 100 + i))
    const est = estimateSkill('speaking', [...recent, ...old, w('writing_task_2', 1, 500)])
    expect(est).toMatchObject({ attemptsInWindow: 10, band: 9, cefr: 'C1' })
  })
})

describe('estimateOverall', () => {
  test('mean of skill bands rounded to 0.5; needs every skill', () => {
    const writing = estimateSkill('writing', [w('writing_task_1', 6, 1), w('writing_task_2', 6, 2), w('writing_task_2', 6, 3)])
    const speaking = estimateSkill('speaking', [s(6.5, 1), s(6.5, 2), s(6.5, 3)])
    expect(estimateOverall([writing, speaking])).toEqual({ status: 'estimated', band: 6.5, cefr: 'B2' }) // 6.25 → 6.5
    const thin = estimateSkill('speaking', [s(6.5, 1)])
    expect(estimateOverall([writing, thin])).toEqual({ status: 'insufficient_data', band: null, cefr: null })
  })
})
