import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { taskByPart } from '../lifecycle/fixtures'
import { createTestContext, type TestContext } from '../support/context'

let ctx: TestContext
let taskId: string
beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_SUBMISSIONS: '3' })
  taskId = (await taskByPart(ctx, 'writing_task_1')).id
})
afterAll(() => ctx.close())

const submit = (token: string) => ctx.call('POST', '/v1/submissions', { token, body: { taskId, answerText: 'Dear Anna, come in May.' } })

describe('POST /v1/submissions rate limit (per learner)', () => {
  test('past the limit: 429 problem+json with Retry-After and RateLimit headers; other learners unaffected', async () => {
    const a = await ctx.signUp()
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await submit(a.token)).status)
    expect(statuses).toEqual([202, 202, 202, 429])
    const refused = await submit(a.token)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(refused.headers.get('ratelimit-policy')).toBe('"submit";q=3;w=60')
    expect(refused.headers.get('ratelimit')).toMatch(/^"submit";r=0;t=\d+$/)
    const b = await ctx.signUp()
    expect((await submit(b.token)).status).toBe(202)
  })

  test('the limit is checked before the body is read: past it, even a malformed body gets 429, not 400/422', async () => {
    const d = await ctx.signUp()
    for (let i = 0; i < 3; i++) expect((await submit(d.token)).status).toBe(202)
    const nested = await ctx.call('POST', '/v1/submissions', { token: d.token, body: `${'['.repeat(5_000)}${']'.repeat(5_000)}` })
    expect(nested.status).toBe(429)
    const invalid = await ctx.call('POST', '/v1/submissions', { token: d.token, body: { taskId: 'not-a-uuid' } })
    expect(invalid.status).toBe(429)
  })

  test('with Redis stopped, submissions are still accepted and the in-process limiter still refuses past the limit', async () => {
    const c = await ctx.signUp()
    await ctx.redisServer.stop()
    try {
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push((await submit(c.token)).status)
      expect(statuses).toEqual([202, 202, 202, 429])
    } finally {
      await ctx.redisServer.start()
    }
  })
})
