import { describe, expect, test } from 'bun:test'
import type { Criterion, Task, TaskPart } from '@vstep/contracts'
import { pickNextTask, weakestCriterion, type CriterionScore } from '../../src/progress/next-task'

const at = (i: number) => new Date(Date.UTC(2030, 0, 1) + i * 3_600_000)
const task = (id: string, part: TaskPart, title = id): Task => ({
  id,
  skill: part.startsWith('writing') ? 'writing' : 'speaking',
  part,
  title,
  prompt: 'p',
  minWords: 0,
  timeLimitMinutes: 20,
  preparationSeconds: 0,
  speakingSeconds: null,
  level: 'B1-C1',
  gradingMode: 'auto',
})
/** One graded writing attempt with the given criterion scores. */
const writing = (id: string, part: TaskPart, i: number, scores: Partial<Record<Criterion, number>>): CriterionScore[] =>
  Object.entries(scores).map(([criterion, score]) => ({
    submissionId: id,
    skill: 'writing',
    part,
    criterion: criterion as Criterion,
    score: score!,
    gradedAt: at(i),
  }))

const catalogue = [
  task('t1a', 'writing_task_1', 'A letter'),
  task('t1b', 'writing_task_1', 'B letter'),
  task('t2a', 'writing_task_2', 'A essay'),
  task('s1', 'speaking_part_1'),
]

describe('weakestCriterion', () => {
  test('lowest mean over the attempts, ties to the rubric order', () => {
    const scores = [
      ...writing('a', 'writing_task_2', 1, { grammar: 5, vocabulary: 6, organisation: 5 }),
      ...writing('b', 'writing_task_2', 2, { grammar: 6, vocabulary: 6, organisation: 6 }),
    ]
    // grammar and organisation both 5.5: organisation comes first in the rubric.
    expect(weakestCriterion(scores)).toMatchObject({ skill: 'writing', criterion: 'organisation', mean: 5.5, attempts: 2 })
  })

  test('only the last `window` attempts count', () => {
    const scores = [
      ...writing('old', 'writing_task_2', 1, { grammar: 1, vocabulary: 5 }),
      ...writing('new', 'writing_task_2', 2, { grammar: 7, vocabulary: 5 }),
    ]
    expect(weakestCriterion(scores, 1)).toMatchObject({ criterion: 'vocabulary', mean: 5, attempts: 1 })
    expect(weakestCriterion(scores, 2)).toMatchObject({ criterion: 'grammar', mean: 4 })
  })

  test('no scores: null', () => expect(weakestCriterion([])).toBeNull())
})

describe('pickNextTask', () => {
  test('no graded attempts: the least attempted Writing task, Task 1 first', () => {
    expect(pickNextTask([], catalogue, [])).toMatchObject({
      reason: 'no_graded_attempts',
      criterion: null,
      criterionMean: null,
      task: { id: 't1a' },
    })
    expect(pickNextTask([], catalogue, [{ taskId: 't1a', attempts: 1, lastAt: at(1) }]).task?.id).toBe('t1b')
  })

  test('the part where the weak criterion scored lowest, then the least attempted task there', () => {
    const scores = [
      ...writing('a', 'writing_task_1', 1, { grammar: 4, vocabulary: 7 }),
      ...writing('b', 'writing_task_2', 2, { grammar: 6, vocabulary: 7 }),
    ]
    const uses = [
      { taskId: 't1a', attempts: 1, lastAt: at(1) },
      { taskId: 't2a', attempts: 1, lastAt: at(2) },
    ]
    expect(pickNextTask(scores, catalogue, uses)).toEqual({
      reason: 'weakest_criterion',
      skill: 'writing',
      criterion: 'grammar',
      criterionMean: 5,
      basedOnAttempts: 2,
      task: catalogue[1]!, // Task 1 (grammar 4 there), and t1b was never tried
    })
  })

  test('among equally used tasks, the one tried longest ago', () => {
    const scores = writing('a', 'writing_task_1', 1, { grammar: 4 })
    const uses = [
      { taskId: 't1a', attempts: 1, lastAt: at(5) },
      { taskId: 't1b', attempts: 1, lastAt: at(3) },
    ]
    expect(pickNextTask(scores, catalogue, uses).task?.id).toBe('t1b')
  })

  test('a speaking weakness picks a speaking task; none in the catalogue gives task null', () => {
    const scores: CriterionScore[] = [
      ...writing('a', 'writing_task_2', 1, { grammar: 7 }),
      { submissionId: 's', skill: 'speaking', part: 'speaking_part_1', criterion: 'fluency', score: 3, gradedAt: at(2) },
    ]
    expect(pickNextTask(scores, catalogue, [])).toMatchObject({ skill: 'speaking', criterion: 'fluency', task: { id: 's1' } })
    expect(
      pickNextTask(
        scores,
        catalogue.filter((t) => t.skill === 'writing'),
        [],
      ).task,
    ).toBeNull()
  })
})
