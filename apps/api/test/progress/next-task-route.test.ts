import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Criterion } from '@vstep/contracts'
import { createTestContext, type TestContext } from '../support/context'
import { insertGrade, insertSubmission, json, taskByPart } from '../lifecycle/fixtures'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext()
})
afterAll(() => ctx.close())

type NextTaskBody = {
  reason: string
  skill: string | null
  criterion: string | null
  criterionMean: number | null
  basedOnAttempts: number
  task: { id: string; part: string } | null
}

const writingScores = (grammar: number, rest = 7): Partial<Record<Criterion, number>> => ({
  task_fulfilment: rest,
  organisation: rest,
  vocabulary: rest,
  grammar,
})

test('GET /v1/progress/next-task: 401 without a token; a new learner gets a Writing Task 1', async () => {
  expect((await ctx.call('GET', '/v1/progress/next-task')).status).toBe(401)
  const me = await ctx.signUp()
  const res = await ctx.call('GET', '/v1/progress/next-task', { token: me.token })
  expect(res.status).toBe(200)
  const body = await json<NextTaskBody>(res)
  expect(body).toMatchObject({ reason: 'no_graded_attempts', criterion: null, basedOnAttempts: 0 })
  expect(body.task?.part).toBe('writing_task_1')
})

test('GET /v1/progress/next-task: the weakest criterion of the final grades, a task in the part where it is weakest', async () => {
  const me = await ctx.signUp()
  const t1 = await taskByPart(ctx, 'writing_task_1')
  const t2 = await taskByPart(ctx, 'writing_task_2')
  // Task 2: AI says grammar 3, but the human grade (final) says 8: grammar is not weak there.
  const a = await insertSubmission(ctx, { userId: me.userId, taskId: t2.id, status: 'completed' })
  await insertGrade(ctx, a.id, 'ai', writingScores(3), 6)
  await insertGrade(ctx, a.id, 'human', writingScores(8, 6.5), 7)
  // Task 1: grammar 4 is the lowest final criterion score.
  const b = await insertSubmission(ctx, { userId: me.userId, taskId: t1.id, status: 'completed' })
  await insertGrade(ctx, b.id, 'ai', writingScores(4), 6)
  // Left out: a late result and another learner's grades.
  const late = await insertSubmission(ctx, { userId: me.userId, taskId: t2.id, status: 'failed', late: true })
  await insertGrade(ctx, late.id, 'ai', { organisation: 0 }, 1)
  const other = await ctx.signUp()
  const theirs = await insertSubmission(ctx, { userId: other.userId, taskId: t2.id, status: 'completed' })
  await insertGrade(ctx, theirs.id, 'ai', { vocabulary: 0 }, 1)

  const res = await ctx.call('GET', '/v1/progress/next-task', { token: me.token })
  expect(res.status).toBe(200)
  const body = await json<NextTaskBody>(res)
  // grammar: (8 + 4) / 2 = 6.0 < organisation (6.5 + 7) / 2 = 6.75
  expect(body).toMatchObject({ reason: 'weakest_criterion', skill: 'writing', criterion: 'grammar', criterionMean: 6, basedOnAttempts: 2 })
  expect(body.task?.part).toBe('writing_task_1')
  // The seeded catalogue has several Task 1 prompts: an untried one comes before the tried one.
  const task1s = (
    await json<{ items: { id: string; part: string }[] }>(await ctx.call('GET', '/v1/tasks?part=writing_task_1', { token: me.token }))
  ).items
  if (task1s.length > 1) expect(body.task?.id).not.toBe(t1.id)
})
