import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { count, eq } from 'drizzle-orm'
import { submissionEvents, submissions, tasks } from '@vstep/db'
import { jobStatus } from '../../src/queue/arq'
import { createTestContext, type TestContext } from '../support/context'

let ctx: TestContext
let token: string
let userId: string
let writingTaskId: string
let speakingTaskId: string

beforeAll(async () => {
  ctx = await createTestContext()
  ;({ token, userId } = await ctx.signUp())
  const all = await ctx.deps.db.select().from(tasks)
  writingTaskId = all.find((t) => t.part === 'writing_task_2')!.id
  speakingTaskId = all.find((t) => t.skill === 'speaking')!.id
})
afterAll(() => ctx.close())

const storedSubmissions = async () => (await ctx.deps.db.select({ n: count() }).from(submissions))[0]!.n

describe('POST /v1/submissions', () => {
  test('stores the answer as pending, records the first event and enqueues an arq job with the same id', async () => {
    const res = await ctx.call('POST', '/v1/submissions', {
      token,
      body: { taskId: writingTaskId, answerText: 'Working from home has clear benefits for many employees.' },
    })
    expect(res.status).toBe(202)
    const body = (await res.json()) as { id: string; status: string; wordCount: number }
    expect(body.status).toBe('pending')
    expect(body.wordCount).toBe(9)
    const events = await ctx.deps.db.select().from(submissionEvents).where(eq(submissionEvents.submissionId, body.id))
    expect(events.map((e) => [e.fromStatus, e.toStatus])).toEqual([[null, 'pending']])
    // The insert sets the trigger's actor in the same statement (service.ts, withActor).
    expect(events[0]!.actor).toBe(`user:${userId}`)
    expect(await ctx.deps.redis.run((c) => jobStatus(c, body.id))).toBe('queued')
  })

  test('the event actor set with the insert ends with its statement: no pooled connection keeps it', async () => {
    const answers = Array.from({ length: 12 }, (_, i) => `Answer number ${i} about working from home.`)
    const statuses = await Promise.all(
      answers.map(
        async (answerText) => (await ctx.call('POST', '/v1/submissions', { token, body: { taskId: writingTaskId, answerText } })).status,
      ),
    )
    expect(new Set(statuses)).toEqual(new Set([202]))
    // As many concurrent reads as the pool has connections: each sees no actor.
    const seen = await Promise.all(
      Array.from(
        { length: 20 },
        async () => (await ctx.deps.sql<{ actor: string | null }[]>`select current_setting('vstep.actor', true) as actor`)[0]!.actor,
      ),
    )
    expect(seen.every((actor) => actor === null || actor === '')).toBe(true)
  })

  const invalidBodies: [string, unknown, string][] = [
    ['missing taskId', { answerText: 'hello' }, 'taskId'],
    ['taskId not a uuid', { taskId: 'abc', answerText: 'hello' }, 'taskId'],
    ['empty answer', { taskId: crypto.randomUUID(), answerText: '   ' }, 'answerText'],
    ['answer too long', { taskId: crypto.randomUUID(), answerText: 'a'.repeat(20_001) }, 'answerText'],
    ['answer not a string', { taskId: crypto.randomUUID(), answerText: 42 }, 'answerText'],
    ['unknown field', { taskId: crypto.randomUUID(), answerText: 'x', score: 10 }, ''],
  ]
  for (const [name, body, field] of invalidBodies) {
    test(`${name}: 422 problem+json naming the field, nothing stored`, async () => {
      const before = await storedSubmissions()
      const res = await ctx.call('POST', '/v1/submissions', { token, body })
      expect(res.status).toBe(422)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      const problem = (await res.json()) as { status: number; errors: { field: string }[]; detail: string }
      expect(problem.status).toBe(422)
      if (field) expect(problem.errors.map((e) => e.field)).toContain(field)
      expect(await storedSubmissions()).toBe(before)
    })
  }

  test('an unknown task is a 422 on taskId; a speaking task refuses a text answer', async () => {
    const before = await storedSubmissions()
    const unknown = await ctx.call('POST', '/v1/submissions', { token, body: { taskId: crypto.randomUUID(), answerText: 'hi' } })
    expect(unknown.status).toBe(422)
    expect(((await unknown.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe('taskId')
    const speaking = await ctx.call('POST', '/v1/submissions', { token, body: { taskId: speakingTaskId, answerText: 'hi' } })
    expect(speaking.status).toBe(422)
    expect(((await speaking.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe('answerText')
    expect(await storedSubmissions()).toBe(before)
  })

  test('malformed JSON is a 400 problem; no token is a 401 problem', async () => {
    const bad = await ctx.call('POST', '/v1/submissions', { token, body: '{not json' })
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toBe('application/problem+json')
    const anon = await ctx.call('POST', '/v1/submissions', { body: { taskId: writingTaskId, answerText: 'x' } })
    expect(anon.status).toBe(401)
    expect(anon.headers.get('content-type')).toBe('application/problem+json')
  })

  test('with Redis down the submission is still stored, and the reconciler enqueues it once Redis is back', async () => {
    await ctx.redisServer.stop()
    try {
      const res = await ctx.call('POST', '/v1/submissions', {
        token,
        body: { taskId: writingTaskId, answerText: 'Stored even without a queue.' },
      })
      expect(res.status).toBe(202)
      const { id } = (await res.json()) as { id: string }
      const [row] = await ctx.deps.db.select().from(submissions).where(eq(submissions.id, id))
      expect(row!.status).toBe('pending')
      await ctx.redisServer.start()
      const { reconcileGradingQueue } = await import('../../src/submissions/service')
      await reconcileGradingQueue(ctx.deps, { pendingAfterSeconds: 0 })
      expect(await ctx.deps.redis.run((c) => jobStatus(c, id))).toBe('queued')
    } finally {
      await ctx.redisServer.start()
    }
  })

  test('another learner cannot read the submission (404), the owner can', async () => {
    const res = await ctx.call('POST', '/v1/submissions', { token, body: { taskId: writingTaskId, answerText: 'Mine only.' } })
    const { id } = (await res.json()) as { id: string }
    const other = await ctx.signUp()
    expect((await ctx.call('GET', `/v1/submissions/${id}`, { token: other.token })).status).toBe(404)
    const own = await ctx.call('GET', `/v1/submissions/${id}`, { token })
    expect(own.status).toBe(200)
    expect(((await own.json()) as { id: string }).id).toBe(id)
  })
})

describe('values PostgreSQL cannot store', () => {
  test('a NUL character in an answer is a 400 problem, and nothing is stored', async () => {
    const before = await storedSubmissions()
    const res = await ctx.call('POST', '/v1/submissions', {
      token,
      body: { taskId: writingTaskId, answerText: 'an answer with a \u0000 inside' },
    })
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await storedSubmissions()).toBe(before)
  })
})
