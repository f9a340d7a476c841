import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createTestContext, type TestContext } from '../support/context'
import { insertGrade, insertSubmission, json, taskByPart } from '../lifecycle/fixtures'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext()
})
afterAll(() => ctx.close())

type Body = { skills: { skill: string; status: string; band: number | null }[]; overall: { status: string; band: number | null } }

test('three graded writing and three graded speaking answers give an overall estimate; two speaking do not', async () => {
  const me = await ctx.signUp()
  const parts = ['writing_task_1', 'writing_task_2', 'writing_task_2', 'speaking_part_1', 'speaking_part_2', 'speaking_part_3'] as const
  const scores = [6, 6, 6, 5, 6, 7]
  const ids: string[] = []
  for (const [i, part] of parts.entries()) {
    const row = await insertSubmission(ctx, { userId: me.userId, taskId: (await taskByPart(ctx, part)).id, status: 'completed' })
    await insertGrade(ctx, row.id, 'ai', {}, scores[i]!)
    ids.push(row.id)
  }
  const all = await json<Body>(await ctx.call('GET', '/v1/progress', { token: me.token }))
  expect(all.skills.find((s) => s.skill === 'speaking')).toMatchObject({ status: 'estimated', band: 6 })
  expect(all.overall).toMatchObject({ status: 'estimated', band: 6 })

  await ctx.call('DELETE', `/v1/submissions/${ids.at(-1)}`, { token: me.token })
  const fewer = await json<Body>(await ctx.call('GET', '/v1/progress', { token: me.token }))
  expect(fewer.overall.status).toBe('insufficient_data')
})
