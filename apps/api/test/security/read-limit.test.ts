import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { tasks, users } from '@vstep/db'
import { isLimitedRead, readPolicyFor } from '../../src/platform/read-limit'
import { createTestContext, testConfig, type TestContext } from '../support/context'

/**
 * Issue 11, finding 9: each anonymous GET /v1/tasks/<random uuid> stored a negative cache key in
 * Redis (3,000 requests, 3,000 keys), and anonymous reads were not limited at all.
 */
let ctx: TestContext
let base: string
beforeAll(async () => {
  // Small learner and staff quotas keep the test short; the anonymous one is the default (30).
  ctx = await createTestContext({
    RATE_LIMIT_READ_LEARNER: '40',
    RATE_LIMIT_READ_STAFF: '60',
    RATE_LIMIT_LOGIN: '1000',
    RATE_LIMIT_REGISTER: '1000',
  })
  ctx.app.listen({ port: 0, hostname: '127.0.0.1' })
  base = `http://127.0.0.1:${ctx.app.server!.port}`
})
afterAll(async () => {
  await ctx.app.stop(true)
  await ctx.close()
})

const redis = <T>(command: string, args: string[]) => ctx.deps.redis.run((c) => c.send(command, args)) as Promise<T>
const allKeys = () => redis<string[]>('KEYS', ['*'])

describe('unknown task ids leave nothing in Redis', () => {
  test('3,000 GETs of random task ids (in process, so no read limit applies) store no key per id', async () => {
    const [task] = await ctx.deps.db.select().from(tasks).limit(1)
    expect((await ctx.call('GET', `/v1/tasks/${task!.id}`)).status).toBe(200) // a hit is still cached
    const before = await allKeys()
    const ids = Array.from({ length: 3_000 }, () => crypto.randomUUID())
    for (let i = 0; i < ids.length; i += 100) {
      const statuses = await Promise.all(ids.slice(i, i + 100).map(async (id) => (await ctx.call('GET', `/v1/tasks/${id}`)).status))
      expect(new Set(statuses)).toEqual(new Set([404]))
    }
    const after = await allKeys()
    expect(after.length).toBe(before.length)
    expect(after.filter((k) => ids.some((id) => k.includes(id)))).toEqual([])
    expect(after.some((k) => k.includes(task!.id))).toBe(true)
  })
})

describe('the read limit', () => {
  test('an anonymous client gets 429 problem+json after 30 reads a minute, and no key per id', async () => {
    const before = await allKeys()
    const statuses: number[] = []
    let refused: Response | undefined
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${base}/v1/tasks/${crypto.randomUUID()}`)
      statuses.push(res.status)
      if (res.status === 429 && !refused) refused = res
      else await res.arrayBuffer()
    }
    expect(statuses.slice(0, 30).every((s) => s === 404)).toBe(true)
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true)
    expect(refused!.headers.get('content-type')).toBe('application/problem+json')
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(refused!.headers.get('ratelimit-policy')).toBe('"read-anonymous";q=30;w=60')
    expect(refused!.headers.get('ratelimit')).toMatch(/^"read-anonymous";r=0;t=\d+$/)
    expect(((await refused!.json()) as { status: number }).status).toBe(429)
    // One limiter key for this address, nothing per id.
    const added = (await allKeys()).filter((k) => !before.includes(k))
    expect(added).toEqual(['rl:read-anonymous:ip:127.0.0.1'])
    // Health and readiness are not counted.
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    expect((await fetch(`${base}/readyz`)).status).toBe(200)
  })

  test('signed-in callers are counted per user by role, apart from their address', async () => {
    const learner = await ctx.signUp()
    const staff = await ctx.signUp()
    await ctx.deps.db.update(users).set({ role: 'instructor' }).where(eq(users.id, staff.userId))
    const read = async (token: string) => {
      const res = await fetch(`${base}/v1/tasks`, { headers: { authorization: `Bearer ${token}` } })
      await res.arrayBuffer()
      return res
    }
    // The address is over its anonymous quota (previous test); the learner has 40 of their own.
    const learnerStatuses: number[] = []
    for (let i = 0; i < 41; i++) learnerStatuses.push((await read(learner.token)).status)
    expect(learnerStatuses.slice(0, 40).every((s) => s === 200)).toBe(true)
    expect(learnerStatuses[40]).toBe(429)
    // The instructor's token was issued as a learner: the claim in the token decides, so re-login.
    const login = await ctx.call('POST', '/v1/auth/login', { body: { email: staff.email, password: staff.password } })
    const staffToken = ((await login.json()) as { accessToken: string }).accessToken
    const first = await read(staffToken)
    expect(first.status).toBe(200)
    expect(first.headers.get('ratelimit-policy')).toBe('"read-staff";q=60;w=60')
    // A forged token counts as anonymous (already over its quota here), never as a user.
    expect((await fetch(`${base}/v1/tasks`, { headers: { authorization: 'Bearer forged.token.value' } })).status).toBe(429)
  })

  test('defaults and scope: 30 anonymous, 100 learner, 500 staff per minute; only GET/HEAD under /v1', () => {
    const config = testConfig()
    expect(readPolicyFor(config, { kind: 'anonymous', ip: '192.0.2.1' })).toEqual({
      policy: { name: 'read-anonymous', limit: 30, windowSeconds: 60 },
      key: 'ip:192.0.2.1',
    })
    expect(readPolicyFor(config, { kind: 'user', id: 'u', role: 'learner' }).policy.limit).toBe(100)
    expect(readPolicyFor(config, { kind: 'user', id: 'u', role: 'admin' }).policy.limit).toBe(500)
    expect(isLimitedRead('GET', 'http://h/v1/tasks?skill=writing')).toBe(true)
    expect(isLimitedRead('HEAD', 'http://h/v1/me')).toBe(true)
    expect(isLimitedRead('POST', 'http://h/v1/submissions')).toBe(false)
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi/json', '/v1'])
      expect(isLimitedRead('GET', `http://h${path}`)).toBe(false)
  })
})
