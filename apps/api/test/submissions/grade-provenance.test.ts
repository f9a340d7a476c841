import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { Submission } from '@vstep/contracts'
import { grades } from '@vstep/db'
import { createTestContext, type TestContext } from '../support/context'
import { insertGrade, insertSubmission, json, taskByPart } from '../lifecycle/fixtures'

let ctx: TestContext
let learner: { token: string; userId: string }
let taskId: string

beforeAll(async () => {
  ctx = await createTestContext()
  learner = await ctx.signUp()
  taskId = (await taskByPart(ctx, 'writing_task_2')).id
})
afterAll(() => ctx.close())

const scores = { task_fulfilment: 6, organisation: 6, vocabulary: 6, grammar: 6 }

async function gradedWith(origin: 'provider' | 'reused' | 'fallback', rubricVersion: string) {
  const row = await insertSubmission(ctx, { userId: learner.userId, taskId, status: 'completed' })
  const g = await insertGrade(ctx, row.id, 'ai', scores, 6)
  await ctx.deps.db.update(grades).set({ origin, rubricVersion }).where(eq(grades.id, g.id))
  return row.id
}

describe('GET /v1/submissions/:id: where each grade came from', () => {
  test.each(['provider', 'reused', 'fallback'] as const)(
    'an AI grade of origin %s says so, with its rubric/prompt version',
    async (origin) => {
      const id = await gradedWith(origin, `vstep-llm-rubric-1+prompt-1 (${origin})`)
      const res = await ctx.call('GET', `/v1/submissions/${id}`, { token: learner.token })
      expect(res.status).toBe(200)
      const body = Submission.parse(await json(res)) // the response still matches the contract
      expect(body.grades).toHaveLength(1)
      expect(body.grades[0]).toMatchObject({ source: 'ai', origin, rubricVersion: `vstep-llm-rubric-1+prompt-1 (${origin})` })
    },
  )

  test('a human grade has no origin (null), the AI grade beside it keeps its own', async () => {
    const id = await gradedWith('reused', 'v-ai')
    await insertGrade(ctx, id, 'human', scores, 6)
    const body = Submission.parse(await json(await ctx.call('GET', `/v1/submissions/${id}`, { token: learner.token })))
    const bySource = Object.fromEntries(body.grades.map((g) => [g.source, g]))
    expect(bySource.ai).toMatchObject({ origin: 'reused', rubricVersion: 'v-ai' })
    expect(bySource.human?.origin).toBeNull()
  })
})
