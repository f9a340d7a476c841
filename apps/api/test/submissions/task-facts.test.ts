import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { tasks } from '@vstep/db'
import { CATALOG_CHANNEL } from '../../src/catalog/cache'
import { taskFacts } from '../../src/submissions/task-facts'
import { json, taskByPart, userWithRole } from '../lifecycle/fixtures'
import { createTestContext, type TestContext } from '../support/context'
import { waitFor } from '../support/processes'

/** submissions/task-facts.ts: intake reads a task's facts from memory, and never a stale grading mode. */
let ctx: TestContext
let admin: { token: string; userId: string }
let learner: { token: string; userId: string }
let taskId: string

beforeAll(async () => {
  ctx = await createTestContext()
  admin = await userWithRole(ctx, 'admin')
  learner = await ctx.signUp()
  taskId = (await taskByPart(ctx, 'writing_task_2')).id
  await waitFor(
    'the catalogue channel to be subscribed',
    async () => (ctx.deps.redis.subscriber.isLive(CATALOG_CHANNEL) ? true : undefined),
    5_000,
  )
})
afterAll(() => ctx.close())

const submit = async () => {
  const res = await ctx.call('POST', '/v1/submissions', { token: learner.token, body: { taskId, answerText: 'An answer to grade.' } })
  expect(res.status).toBe(202)
  return json<{ status: string; gradingMode: string }>(res)
}

describe('task facts held for intake', () => {
  test('a task read once is answered from memory; unknown ids are not kept', async () => {
    const cache = taskFacts(ctx.deps)
    const first = await cache.get(taskId)
    // Changed behind the cache's back (no invalidation): the held facts still answer.
    await ctx.deps.db.update(tasks).set({ gradingMode: 'hybrid' }).where(eq(tasks.id, taskId))
    expect(await cache.get(taskId)).toBe(first!)
    await ctx.deps.db.update(tasks).set({ gradingMode: first!.gradingMode }).where(eq(tasks.id, taskId))
    expect(await cache.get(crypto.randomUUID())).toBeUndefined()
  })

  test("an admin's change of grading mode applies to the very next submission on the same instance", async () => {
    expect((await submit()).gradingMode).toBe('auto')
    const patched = await ctx.call('PATCH', `/v1/tasks/${taskId}`, { token: admin.token, body: { gradingMode: 'human' } })
    expect(patched.status).toBe(200)
    expect(await submit()).toMatchObject({ status: 'review_pending', gradingMode: 'human' })
  })

  test('a change announced by another instance (catalog:changes) empties the held facts', async () => {
    // Another instance's write: the row changes and the change is published.
    await ctx.deps.db.update(tasks).set({ gradingMode: 'auto' }).where(eq(tasks.id, taskId))
    expect((await submit()).gradingMode).toBe('human') // not announced yet: still held
    await ctx.deps.redis.run((c) => c.publish(CATALOG_CHANNEL, 'changed'))
    await waitFor(
      'the next submission to use the new mode',
      async () => ((await submit()).gradingMode === 'auto' ? true : undefined),
      1_000,
    )
  })
})
