import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { canTransition, SUBMISSION_STATUSES, SUBMISSION_TRANSITIONS, type SubmissionStatus } from '@vstep/contracts'
import { submissionEvents } from '@vstep/db'
import { createTestContext, type TestContext } from '../support/context'
import { insertSubmission, json, taskByPart } from './fixtures'

let ctx: TestContext
let learner: { token: string; userId: string }
let taskId: string

beforeAll(async () => {
  ctx = await createTestContext()
  learner = await ctx.signUp()
  taskId = (await taskByPart(ctx, 'writing_task_2')).id
})
afterAll(() => ctx.close())

const eventsOf = (id: string) =>
  ctx.deps.db.select().from(submissionEvents).where(eq(submissionEvents.submissionId, id)).orderBy(submissionEvents.id)

describe('the database enforces the state machine', () => {
  test('its allowlist equals SUBMISSION_TRANSITIONS over all 25 pairs', async () => {
    const rows = (await ctx.deps.sql`
      select a::text as "from", b::text as "to", submission_transition_allowed(a, b) as allowed
      from unnest(enum_range(null::submission_status)) a, unnest(enum_range(null::submission_status)) b`) as unknown as {
      from: SubmissionStatus
      to: SubmissionStatus
      allowed: boolean
    }[]
    expect(rows).toHaveLength(25)
    for (const r of rows) expect([r.from, r.to, r.allowed]).toEqual([r.from, r.to, canTransition(r.from, r.to)])
    const legal = rows
      .filter((r) => r.allowed)
      .map((r) => `${r.from}->${r.to}`)
      .sort()
    const expected = Object.entries(SUBMISSION_TRANSITIONS)
      .flatMap(([f, tos]) => tos.map((t) => `${f}->${t}`))
      .sort()
    expect(legal).toEqual(expected)
  })

  const pairs = SUBMISSION_STATUSES.flatMap((from) => SUBMISSION_STATUSES.filter((to) => to !== from).map((to) => [from, to] as const))
  for (const [from, to] of pairs) {
    const legal = canTransition(from, to)
    test(`raw SQL ${from} → ${to} is ${legal ? 'allowed and writes exactly one event' : 'refused with no event'}`, async () => {
      const row = await insertSubmission(ctx, { userId: learner.userId, taskId, status: from })
      const before = await eventsOf(row.id)
      expect(before.map((e) => [e.fromStatus, e.toStatus])).toEqual([[null, from]])
      const attempt = ctx.deps.sql.begin(async (tx) => {
        await tx`select set_config('vstep.actor', 'test:raw-sql', true), set_config('vstep.reason', 'matrix', true)`
        await tx`update submissions set status = ${to}::submission_status where id = ${row.id}`
      })
      if (legal) {
        await attempt
        const after = await eventsOf(row.id)
        expect(after).toHaveLength(2)
        expect(after[1]).toMatchObject({ fromStatus: from, toStatus: to, actor: 'test:raw-sql', reason: 'matrix' })
      } else {
        const error = (await attempt.then(
          () => null,
          (e) => e,
        )) as { code?: string; constraint_name?: string } | null
        expect(error?.code).toBe('23514')
        expect(error?.constraint_name).toBe('submission_status_transition')
        expect(await eventsOf(row.id)).toHaveLength(1)
        const [{ status }] = (await ctx.deps.sql`select status::text from submissions where id = ${row.id}`) as unknown as [
          { status: string },
        ]
        expect(status).toBe(from)
      }
    })
  }

  test('an update that does not change the status writes no event', async () => {
    const row = await insertSubmission(ctx, { userId: learner.userId, taskId, status: 'processing' })
    await ctx.deps.db.execute(sql`update submissions set attempts = attempts + 1, status = 'processing' where id = ${row.id}`)
    expect(await eventsOf(row.id)).toHaveLength(1)
  })
})

describe('the API refuses illegal transitions with 409 problem+json', () => {
  for (const status of ['completed', 'pending', 'processing', 'review_pending'] as const) {
    test(`retry of a ${status} submission is a 409`, async () => {
      const row = await insertSubmission(ctx, { userId: learner.userId, taskId, status })
      const res = await ctx.call('POST', `/v1/submissions/${row.id}/retry`, { token: learner.token })
      expect(res.status).toBe(409)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect((await json<{ status: number }>(res)).status).toBe(409)
      expect(await eventsOf(row.id)).toHaveLength(1)
    })
  }

  test('retry of a failed submission moves it to pending with one event (actor = the learner, reason retry)', async () => {
    const row = await insertSubmission(ctx, { userId: learner.userId, taskId, status: 'failed' })
    const res = await ctx.call('POST', `/v1/submissions/${row.id}/retry`, { token: learner.token })
    expect(res.status).toBe(202)
    expect((await json<{ status: string; lastErrorCode: null }>(res)).status).toBe('pending')
    const events = await eventsOf(row.id)
    expect(events).toHaveLength(2)
    expect(events[1]).toMatchObject({ fromStatus: 'failed', toStatus: 'pending', actor: `user:${learner.userId}`, reason: 'retry' })
  })
})
