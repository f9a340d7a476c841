import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createTestContext, type TestContext } from '../support/context'
import { insertGrade, insertSubmission, json, taskByPart } from '../lifecycle/fixtures'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext()
})
afterAll(() => ctx.close())

type SkillProgress = {
  skill: string
  status: string
  band: number | null
  cefr: string | null
  attemptsInWindow: number
  history: { overall: number; source: string }[]
}

test('GET /v1/progress: final grade = human if present, late and ungraded results excluded', async () => {
  const me = await ctx.signUp()
  const t1 = (await taskByPart(ctx, 'writing_task_1')).id
  const t2 = (await taskByPart(ctx, 'writing_task_2')).id
  const sp = (await taskByPart(ctx, 'speaking_part_1')).id
  const graded = async (taskId: string, ai: number, human?: number, o: { late?: boolean; status?: 'completed' | 'failed' } = {}) => {
    const row = await insertSubmission(ctx, { userId: me.userId, taskId, status: o.status ?? 'completed', late: o.late ?? false })
    await insertGrade(ctx, row.id, 'ai', {}, ai)
    if (human != null) await insertGrade(ctx, row.id, 'human', {}, human)
  }
  await graded(t1, 5)
  await graded(t2, 9, 6) // human 6 wins over AI 9
  await graded(t2, 7)
  await graded(t2, 10, undefined, { late: true, status: 'failed' }) // late: left out
  await insertSubmission(ctx, { userId: me.userId, taskId: t2, status: 'pending' }) // ungraded
  await graded(sp, 6)

  const res = await ctx.call('GET', '/v1/progress', { token: me.token })
  expect(res.status).toBe(200)
  const body = await json<{ skills: SkillProgress[]; overall: { status: string } }>(res)
  const writing = body.skills.find((s) => s.skill === 'writing')!
  // T1 5, T2 mean (6 + 7) / 2 = 6.5 → (5 + 13) / 3 = 6.0
  expect(writing).toMatchObject({ status: 'estimated', band: 6, cefr: 'B2', attemptsInWindow: 3 })
  expect(writing.history.map((h) => [h.overall, h.source])).toEqual([
    [5, 'ai'],
    [6, 'human'],
    [7, 'ai'],
  ])
  expect(body.skills.find((s) => s.skill === 'speaking')).toMatchObject({ status: 'insufficient_data', band: null, attemptsInWindow: 1 })
  expect(body.overall.status).toBe('insufficient_data')
  expect((await ctx.call('GET', '/v1/progress')).status).toBe(401)
})
