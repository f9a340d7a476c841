import { afterAll, beforeAll, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { submissionEvents, submissions } from '@vstep/db'
import { jobStatus } from '../../src/queue/arq'
import { enqueueGrading } from '../../src/submissions/grading-queue'
import { sweepOverdue } from '../../src/sweeper/sweeper'
import { createTestContext, type TestContext } from '../support/context'
import { insertSubmission, taskByPart } from './fixtures'

let ctx: TestContext
let userId: string
let taskId: string
beforeAll(async () => {
  ctx = await createTestContext()
  ;({ userId } = await ctx.signUp())
  taskId = (await taskByPart(ctx, 'writing_task_2')).id
})
afterAll(() => ctx.close())

test('overdue pending/processing fail with reason timeout; others untouched; the queued job is removed', async () => {
  const past = new Date(Date.now() - 60_000)
  const future = new Date(Date.now() + 600_000)
  const overduePending = await insertSubmission(ctx, { userId, taskId, status: 'pending', deadlineAt: past })
  const overdueProcessing = await insertSubmission(ctx, { userId, taskId, status: 'processing', deadlineAt: past })
  const inTime = await insertSubmission(ctx, { userId, taskId, status: 'pending', deadlineAt: future })
  const inReview = await insertSubmission(ctx, { userId, taskId, status: 'review_pending', deadlineAt: past })
  await enqueueGrading(ctx.deps, overduePending.id)

  const swept = await sweepOverdue(ctx.deps)
  expect(swept.sort()).toEqual([overduePending.id, overdueProcessing.id].sort())
  for (const id of swept) {
    const [row] = await ctx.deps.db.select().from(submissions).where(eq(submissions.id, id))
    expect(row).toMatchObject({ status: 'failed', lastErrorCode: 'timeout' })
    const events = await ctx.deps.db
      .select()
      .from(submissionEvents)
      .where(eq(submissionEvents.submissionId, id))
      .orderBy(submissionEvents.id)
    expect(events.at(-1)).toMatchObject({ toStatus: 'failed', actor: 'system:sweeper', reason: 'timeout' })
  }
  for (const id of [inTime.id, inReview.id]) {
    const [row] = await ctx.deps.db.select().from(submissions).where(eq(submissions.id, id))
    expect(row!.lastErrorCode).toBeNull()
  }
  expect(await ctx.deps.redis.run((c) => jobStatus(c, overduePending.id))).toBe('not_found')
  expect(await sweepOverdue(ctx.deps)).toEqual([])
})

test('the grading deadline comes from configuration, by skill', async () => {
  const { loadConfig } = await import('../../src/config')
  const config = loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', GRADING_DEADLINE_WRITING_MINUTES: '5' })
  expect(config.GRADING_DEADLINE_WRITING_MINUTES).toBe(5)
  expect(config.GRADING_DEADLINE_SPEAKING_MINUTES).toBe(60)
  const { deadlineFor } = await import('../../src/submissions/service')
  const [row] = (await ctx.deps.db.execute(
    sql`select extract(epoch from (${deadlineFor(config, 'writing')} - now()))::int as writing, extract(epoch from (${deadlineFor(config, 'speaking')} - now()))::int as speaking`,
  )) as unknown as { writing: number; speaking: number }[]
  expect(row).toEqual({ writing: 300, speaking: 3600 })
})
