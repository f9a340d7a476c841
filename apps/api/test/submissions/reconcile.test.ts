import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { insertSubmission, taskByPart, userWithRole } from '../lifecycle/fixtures'
import { jobStatus } from '../../src/queue/arq'
import { reconcileGradingQueue } from '../../src/submissions/service'
import { createTestContext, type TestContext } from '../support/context'

let ctx: TestContext
let userId: string
let taskId: string
beforeAll(async () => {
  ctx = await createTestContext()
  ;({ userId } = await userWithRole(ctx, 'learner'))
  taskId = (await taskByPart(ctx, 'writing_task_2')).id
})
afterAll(() => ctx.close())

const redis = (cmd: string, ...args: string[]) => ctx.deps.redis.run((c) => c.send(cmd, args))
const statusOf = (id: string) => ctx.deps.redis.run((c) => jobStatus(c, id))
const everything = { pendingAfterSeconds: 0, processingAfterSeconds: 0 }

describe('reconciling the grading queue with the database', () => {
  test('after Redis lost its data, pending and processing rows are queued again', async () => {
    const pending = await insertSubmission(ctx, { userId, taskId, status: 'pending' })
    const processing = await insertSubmission(ctx, { userId, taskId, status: 'processing' })
    await redis('FLUSHALL')
    await reconcileGradingQueue(ctx.deps, everything)
    expect(await statusOf(pending.id)).toBe('queued')
    expect(await statusOf(processing.id)).toBe('queued')
  })

  test('a job a worker holds, or one still queued, is left as it is', async () => {
    const held = await insertSubmission(ctx, { userId, taskId, status: 'processing' })
    await redis('SET', `arq:in-progress:${held.id}`, '1')
    const queued = await insertSubmission(ctx, { userId, taskId, status: 'pending' })
    await reconcileGradingQueue(ctx.deps, everything)
    const record = await redis('GET', `arq:job:${queued.id}`)
    await reconcileGradingQueue(ctx.deps, everything)
    expect(await redis('GET', `arq:job:${queued.id}`)).toBe(record) // same job, not a new one
    expect(await redis('EXISTS', `arq:job:${held.id}`)).toBe(0)
    expect(await statusOf(held.id)).toBe('in_progress')
  })

  test('rows in a final state, in review, or touched recently are not queued', async () => {
    const done = await insertSubmission(ctx, { userId, taskId, status: 'completed' })
    const review = await insertSubmission(ctx, { userId, taskId, status: 'review_pending' })
    const fresh = await insertSubmission(ctx, { userId, taskId, status: 'processing' })
    await reconcileGradingQueue(ctx.deps, { pendingAfterSeconds: 0, processingAfterSeconds: 3600 })
    for (const row of [done, review, fresh]) expect(await statusOf(row.id)).toBe('not_found')
  })
})
