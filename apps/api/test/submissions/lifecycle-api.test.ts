import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { and, count, eq } from 'drizzle-orm'
import { submissions } from '@vstep/db'
import { jobStatus, RESULT_KEY_PREFIX } from '../../src/queue/arq'
import { createTestContext, type TestContext } from '../support/context'
import { insertSubmission, json, taskByPart, userWithRole } from '../lifecycle/fixtures'

let ctx: TestContext
let learner: { token: string; userId: string }
let task1: string
let task2: string

beforeAll(async () => {
  ctx = await createTestContext()
  learner = await ctx.signUp()
  task1 = (await taskByPart(ctx, 'writing_task_1')).id
  task2 = (await taskByPart(ctx, 'writing_task_2')).id
})
afterAll(() => ctx.close())

describe('Idempotency-Key', () => {
  test('10 concurrent identical POSTs with one key create exactly one submission', async () => {
    const key = crypto.randomUUID()
    const body = { taskId: task2, answerText: 'Concurrent duplicates must collapse into one stored answer.' }
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        ctx.call('POST', '/v1/submissions', { token: learner.token, body, headers: { 'idempotency-key': key } }),
      ),
    )
    const statuses = responses.map((r) => r.status).sort()
    expect(statuses.filter((s) => s === 202)).toHaveLength(1)
    expect(statuses.filter((s) => s === 200)).toHaveLength(9)
    const ids = new Set(await Promise.all(responses.map(async (r) => (await json<{ id: string }>(r)).id)))
    expect(ids.size).toBe(1)
    const [{ n }] = (await ctx.deps.db
      .select({ n: count() })
      .from(submissions)
      .where(and(eq(submissions.userId, learner.userId), eq(submissions.idempotencyKey, key)))) as [{ n: number }]
    expect(n).toBe(1)
    const replay = responses.find((r) => r.status === 200)!
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
  })

  test('same key with another body is a 409; another user may use the same key; no key makes new rows', async () => {
    const key = 'k-' + crypto.randomUUID()
    const first = await ctx.call('POST', '/v1/submissions', {
      token: learner.token,
      body: { taskId: task2, answerText: 'First body.' },
      headers: { 'idempotency-key': key },
    })
    expect(first.status).toBe(202)
    const other = await ctx.call('POST', '/v1/submissions', {
      token: learner.token,
      body: { taskId: task2, answerText: 'Second body.' },
      headers: { 'idempotency-key': key },
    })
    expect(other.status).toBe(409)
    expect(other.headers.get('content-type')).toBe('application/problem+json')
    const stranger = await ctx.signUp()
    expect(
      (
        await ctx.call('POST', '/v1/submissions', {
          token: stranger.token,
          body: { taskId: task2, answerText: 'First body.' },
          headers: { 'idempotency-key': key },
        })
      ).status,
    ).toBe(202)
    const a = await json<{ id: string }>(
      await ctx.call('POST', '/v1/submissions', { token: learner.token, body: { taskId: task2, answerText: 'No key.' } }),
    )
    const b = await json<{ id: string }>(
      await ctx.call('POST', '/v1/submissions', { token: learner.token, body: { taskId: task2, answerText: 'No key.' } }),
    )
    expect(a.id).not.toBe(b.id)
    const bad = await ctx.call('POST', '/v1/submissions', {
      token: learner.token,
      body: { taskId: task2, answerText: 'x y' },
      headers: { 'idempotency-key': 'x'.repeat(300) },
    })
    expect(bad.status).toBe(422)
  })

  test('an answer above the word limit is refused (422), word count stored', async () => {
    const long = await ctx.call('POST', '/v1/submissions', {
      token: learner.token,
      body: { taskId: task2, answerText: 'word '.repeat(3_001) },
    })
    expect(long.status).toBe(422)
  })
})

describe('GET /v1/submissions', () => {
  test('cursor pages cover every row exactly once, newest first, ties broken by id; filters apply', async () => {
    const me = await ctx.signUp()
    const base = Date.UTC(2030, 0, 10, 12)
    const created: { id: string; at: number }[] = []
    for (let i = 0; i < 25; i++) {
      // Pairs share a timestamp to exercise the (created_at, id) tie-break.
      const at = base + Math.floor(i / 2) * 60_000
      const row = await insertSubmission(ctx, {
        userId: me.userId,
        taskId: i % 3 === 0 ? task1 : task2,
        status: i % 5 === 0 ? 'failed' : 'completed',
        createdAt: new Date(at),
      })
      created.push({ id: row.id, at })
    }
    const expected = [...created].sort((x, y) => y.at - x.at || (y.id > x.id ? 1 : -1)).map((c) => c.id)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const qs: string = `limit=7${cursor ? `&cursor=${cursor}` : ''}`
      const page: { items: { id: string }[]; nextCursor: string | null } = await json(
        await ctx.call('GET', `/v1/submissions?${qs}`, { token: me.token }),
      )
      seen.push(...page.items.map((i) => i.id))
      cursor = page.nextCursor
      pages++
    } while (cursor)
    expect(pages).toBe(4)
    expect(seen).toEqual(expected)

    const failed = await json<{ items: { status: string }[] }>(
      await ctx.call('GET', '/v1/submissions?status=failed&limit=100', { token: me.token }),
    )
    expect(failed.items).toHaveLength(5)
    expect(failed.items.every((i) => i.status === 'failed')).toBe(true)
    const t1 = await json<{ items: { taskId: string }[] }>(
      await ctx.call('GET', `/v1/submissions?taskId=${task1}&limit=100`, { token: me.token }),
    )
    expect(t1.items).toHaveLength(9)
    const speaking = await json<{ items: unknown[] }>(await ctx.call('GET', '/v1/submissions?skill=speaking', { token: me.token }))
    expect(speaking.items).toHaveLength(0)
    const from = new Date(base + 10 * 60_000).toISOString()
    const ranged = await json<{ items: unknown[] }>(
      await ctx.call('GET', `/v1/submissions?from=${from}&to=2030-01-10&limit=100`, { token: me.token }),
    )
    expect(ranged.items).toHaveLength(5) // minutes 10, 10, 11, 11, 12
    expect((await ctx.call('GET', '/v1/submissions?cursor=not-a-cursor', { token: me.token })).status).toBe(422)
    // Only the caller's own rows.
    const others = await json<{ items: unknown[] }>(
      await ctx.call('GET', '/v1/submissions?limit=100', { token: (await ctx.signUp()).token }),
    )
    expect(others.items).toHaveLength(0)
  })
})

describe('retry and delete', () => {
  test('retry clears a stale arq result so the job is queued again under the same id', async () => {
    const row = await insertSubmission(ctx, { userId: learner.userId, taskId: task2, status: 'failed' })
    await ctx.deps.redis.run((c) => c.send('SET', [RESULT_KEY_PREFIX + row.id, '{"s":false}']))
    expect(await ctx.deps.redis.run((c) => jobStatus(c, row.id))).toBe('complete')
    const res = await ctx.call('POST', `/v1/submissions/${row.id}/retry`, { token: learner.token })
    expect(res.status).toBe(202)
    const body = await json<{ status: string; deadlineAt: string | null; late: boolean }>(res)
    expect(body.status).toBe('pending')
    expect(body.deadlineAt).not.toBeNull()
    expect(await ctx.deps.redis.run((c) => jobStatus(c, row.id))).toBe('queued')
  })

  test('retry by another learner is 404; an instructor is 403; an admin may', async () => {
    const row = await insertSubmission(ctx, { userId: learner.userId, taskId: task2, status: 'failed' })
    expect((await ctx.call('POST', `/v1/submissions/${row.id}/retry`, { token: (await ctx.signUp()).token })).status).toBe(404)
    expect(
      (await ctx.call('POST', `/v1/submissions/${row.id}/retry`, { token: (await userWithRole(ctx, 'instructor')).token })).status,
    ).toBe(403)
    expect((await ctx.call('POST', `/v1/submissions/${row.id}/retry`, { token: (await userWithRole(ctx, 'admin')).token })).status).toBe(
      202,
    )
  })

  test('delete: the owner removes the row and its queued job; others get 404', async () => {
    const created = await json<{ id: string }>(
      await ctx.call('POST', '/v1/submissions', { token: learner.token, body: { taskId: task2, answerText: 'To be deleted.' } }),
    )
    expect(await ctx.deps.redis.run((c) => jobStatus(c, created.id))).toBe('queued')
    expect((await ctx.call('DELETE', `/v1/submissions/${created.id}`, { token: (await ctx.signUp()).token })).status).toBe(404)
    expect((await ctx.call('DELETE', `/v1/submissions/${created.id}`, { token: learner.token })).status).toBe(204)
    expect((await ctx.call('GET', `/v1/submissions/${created.id}`, { token: learner.token })).status).toBe(404)
    expect(await ctx.deps.redis.run((c) => jobStatus(c, created.id))).toBe('not_found')
  })
})
