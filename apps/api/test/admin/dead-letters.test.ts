/**
 * Dead letters (issue 8): the admin routes over the table the worker fills, against a private
 * PostgreSQL database and redis-server; and the breaker metrics the API exports from the keys the
 * worker's breaker script writes. The worker side (4 tries, then a dead letter) is tested with real
 * worker processes in workers/grader-py/tests/test_provider_worker.py.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { deadLetters, submissions, tasks, users } from '@vstep/db'
import { JOB_KEY_PREFIX } from '../../src/queue/arq'
import { createTestContext, type TestContext } from '../support/context'

let ctx: TestContext
let adminToken: string
let learnerToken: string
let writingTaskId: string

beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_LOGIN: '1000', RATE_LIMIT_REGISTER: '1000' })
  const admin = await ctx.signUp()
  await ctx.deps.db.update(users).set({ role: 'admin' }).where(eq(users.id, admin.userId))
  adminToken = admin.token
  learnerToken = (await ctx.signUp()).token
  writingTaskId = (await ctx.deps.db.select().from(tasks)).find((t) => t.skill === 'writing')!.id
})
afterAll(() => ctx.close())

type DeadLetterBody = {
  id: string
  submissionId: string
  provider: string
  reason: string
  attempts: number
  lastError: string
  requeuedAt: string | null
  submissionStatus: string
}

/** A learner's submission, ended by the worker as `status` with a dead letter (as jobs.py writes them). */
async function deadLettered(status: 'failed' | 'review_pending'): Promise<{ submissionId: string; id: string }> {
  const res = await ctx.call('POST', '/v1/submissions', {
    token: learnerToken,
    body: { taskId: writingTaskId, answerText: `An answer ${crypto.randomUUID()}.` },
  })
  expect(res.status).toBe(202)
  const { id: submissionId } = (await res.json()) as { id: string }
  await ctx.deps.db.transaction(async (tx) => {
    await tx.update(submissions).set({ status: 'processing' }).where(eq(submissions.id, submissionId))
    await tx.update(submissions).set({ status, lastErrorCode: 'provider_unavailable' }).where(eq(submissions.id, submissionId))
  })
  await ctx.deps.redis.run((c) => c.send('DEL', [JOB_KEY_PREFIX + submissionId]))
  const [row] = await ctx.deps.db
    .insert(deadLetters)
    .values({ submissionId, provider: 'openai', reason: 'provider_unavailable', attempts: 4, lastError: 'timed out' })
    .returning()
  return { submissionId, id: row!.id }
}

const list = async (query = '') => {
  const res = await ctx.call('GET', `/v1/admin/dead-letters${query}`, { token: adminToken })
  expect(res.status).toBe(200)
  return ((await res.json()) as { items: DeadLetterBody[] }).items
}

describe('GET /v1/admin/dead-letters', () => {
  test('is for admins only: 401 without a token, 403 for a learner, as problem+json', async () => {
    expect((await ctx.call('GET', '/v1/admin/dead-letters')).status).toBe(401)
    const res = await ctx.call('GET', '/v1/admin/dead-letters', { token: learnerToken })
    expect(res.status).toBe(403)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect((await ctx.call('POST', `/v1/admin/dead-letters/${crypto.randomUUID()}/requeue`, { token: learnerToken })).status).toBe(403)
    expect((await ctx.call('GET', '/v1/admin/dead-letters?include=some', { token: adminToken })).status).toBe(422)
  })

  test('lists an open dead letter with its submission, provider, reason, tries and last error', async () => {
    const d = await deadLettered('failed')
    const item = (await list()).find((x) => x.id === d.id)
    expect(item).toMatchObject({
      submissionId: d.submissionId,
      provider: 'openai',
      reason: 'provider_unavailable',
      attempts: 4,
      lastError: 'timed out',
      requeuedAt: null,
      submissionStatus: 'failed',
    })
  })
})

describe('POST /v1/admin/dead-letters/:id/requeue', () => {
  test('puts the failed submission back to pending with a fresh arq job and settles the letter', async () => {
    const d = await deadLettered('failed')
    const res = await ctx.call('POST', `/v1/admin/dead-letters/${d.id}/requeue`, { token: adminToken })
    expect(res.status).toBe(200)
    const body = (await res.json()) as DeadLetterBody
    expect(body.submissionStatus).toBe('pending')
    expect(body.requeuedAt).not.toBeNull()
    const [row] = await ctx.deps.db.select().from(submissions).where(eq(submissions.id, d.submissionId))
    expect(row!.status).toBe('pending')
    expect(row!.lastErrorCode).toBeNull()
    expect(Number(await ctx.deps.redis.run((c) => c.send('EXISTS', [JOB_KEY_PREFIX + d.submissionId])))).toBe(1)
    expect((await list()).some((x) => x.id === d.id)).toBe(false)
    expect((await list('?include=all')).find((x) => x.id === d.id)?.requeuedAt).not.toBeNull()
    // a second re-queue of the same letter is a conflict, an unknown one is 404
    expect((await ctx.call('POST', `/v1/admin/dead-letters/${d.id}/requeue`, { token: adminToken })).status).toBe(409)
    expect((await ctx.call('POST', `/v1/admin/dead-letters/${crypto.randomUUID()}/requeue`, { token: adminToken })).status).toBe(404)
  })

  test('a hybrid submission that went to a reviewer cannot be re-queued (409)', async () => {
    const d = await deadLettered('review_pending')
    const res = await ctx.call('POST', `/v1/admin/dead-letters/${d.id}/requeue`, { token: adminToken })
    expect(res.status).toBe(409)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
  })

  test('requeue all re-queues every open failed one and skips the rest', async () => {
    await ctx.deps.db.execute(sql`update dead_letters set requeued_at = now() where requeued_at is null`)
    const a = await deadLettered('failed')
    const b = await deadLettered('failed')
    await deadLettered('review_pending')
    const res = await ctx.call('POST', '/v1/admin/dead-letters/requeue', { token: adminToken })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ requeued: 2, skipped: 1 })
    for (const d of [a, b]) {
      const [row] = await ctx.deps.db.select().from(submissions).where(eq(submissions.id, d.submissionId))
      expect(row!.status).toBe('pending')
    }
  })
})

describe('GET /metrics: the worker breakers', () => {
  test('exports grader_breaker_state and calls by outcome from the keys the breaker script writes', async () => {
    await ctx.deps.redis.run(async (c) => {
      await c.send('SADD', ['grader:breakers', 'openai'])
      await c.send('HSET', ['grader:breaker:openai', 'state', 'open', 'opened_at', '1'])
      await c.send('HSET', ['grader:breaker:openai:calls', 'success', '4', 'failure', '6', 'rejected', '9', 'to_open', '1'])
    })
    const res = await ctx.call('GET', '/metrics')
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('# TYPE grader_breaker_state gauge')
    expect(text).toContain('grader_breaker_state{provider="openai"} 1')
    expect(text).toContain('# TYPE grader_provider_calls_total counter')
    expect(text).toContain('grader_provider_calls_total{provider="openai",outcome="failure"} 6')
    expect(text).toContain('grader_provider_calls_total{provider="openai",outcome="rejected"} 9')
    expect(text).toContain('grader_breaker_transitions_total{provider="openai",to="open"} 1')
  })
})
