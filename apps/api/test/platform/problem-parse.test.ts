/**
 * What a failure in the parse phase becomes. Elysia wraps anything thrown there in a ParseError
 * (400 "Bad Request"), and that phase runs the body gate's pre-body checks too: authentication looks
 * the session up in PostgreSQL on a cache miss. During a PostgreSQL restart the fault suite saw one
 * POST answered 400 that way; a database that is unavailable is a 503 wherever it is noticed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { createDatabase } from '@vstep/db'
import { createApp } from '../../src/app'
import { ProblemError, problemHandler } from '../../src/platform/problem'
import { RedisHandle } from '../../src/platform/redis'
import { createTestContext, type TestContext } from '../support/context'
import { taskByPart } from '../lifecycle/fixtures'

/** A PostgreSQL nobody listens on: postgres.js fails to connect, as while the server restarts. */
const UNREACHABLE = 'postgres://postgres@127.0.0.1:1/nothing'

/** The real error postgres.js raises when the server cannot be reached. */
async function connectionRefused(): Promise<unknown> {
  const { sql, close } = createDatabase(UNREACHABLE, { max: 1 })
  try {
    await sql`select 1`
    throw new Error('expected the connection to be refused')
  } catch (error) {
    return error
  } finally {
    await close()
  }
}

/** An app whose parse phase throws `error`, as a pre-body check does; its route echoes the body. */
const failingParse = (error: unknown) =>
  new Elysia()
    .use(problemHandler)
    .onParse(() => {
      throw error
    })
    .post('/echo', ({ body }) => body)

const post = (app: { handle(request: Request): Promise<Response> }) =>
  app.handle(new Request('http://localhost/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' }))

describe('a failure in the parse phase', () => {
  test('PostgreSQL unreachable (the real postgres.js error) → 503 problem with Retry-After, not 400', async () => {
    const res = await post(failingParse(await connectionRefused()))
    expect(res.status).toBe(503)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('retry-after')).toBe('1')
    expect(((await res.json()) as { status: number }).status).toBe(503)
  })

  for (const [name, code] of [
    ['shutting down (57P01)', '57P01'],
    ['starting up (57P03)', '57P03'],
    ['connection failure (08006)', '08006'],
    ['postgres.js CONNECTION_CLOSED', 'CONNECTION_CLOSED'],
    ['a deadlock (40P01)', '40P01'],
  ] as const) {
    test(`${name} → 503`, async () => {
      const res = await post(failingParse(Object.assign(new Error(name), { code })))
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
    })
  }

  test('a problem the body gate raised keeps its status (413), and an unreadable body stays 400', async () => {
    expect((await post(failingParse(new ProblemError(413, 'Content Too Large')))).status).toBe(413)
    const bad = await post(failingParse(new SyntaxError('Unexpected token')))
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toBe('application/problem+json')
  })
})

describe('the real app with its database gone', () => {
  let ctx: TestContext
  let redis: RedisHandle
  let db: ReturnType<typeof createDatabase>

  beforeAll(async () => {
    ctx = await createTestContext()
    // Its own Redis handle, so its session memory is empty and the guard must ask PostgreSQL.
    redis = new RedisHandle(ctx.redisServer.url)
    db = createDatabase(UNREACHABLE, { max: 1 })
  })
  afterAll(async () => {
    await db.close()
    redis.close()
    await ctx.close()
  })

  test('POST /v1/submissions while PostgreSQL cannot be reached → 503, the session lookup before the body included', async () => {
    const learner = await ctx.signUp()
    const taskId = (await taskByPart(ctx, 'writing_task_2')).id
    const app = createApp({ ...ctx.deps, db: db.db, sql: db.sql, redis })
    const res = await app.handle(
      new Request('http://localhost/v1/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${learner.token}` },
        body: JSON.stringify({ taskId, answerText: 'An answer that never reaches the database.' }),
      }),
    )
    expect(res.status).toBe(503)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('retry-after')).toBe('1')
  })
})
