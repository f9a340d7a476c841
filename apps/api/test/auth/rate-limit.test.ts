import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test'
import { hashGate } from '../../src/auth/passwords'
import { createTestContext, type TestContext } from '../support/context'
import { json } from './support'
import { log } from '../../src/platform/logger'

// Default limits (password checks 5/50/50/300 per min, register 5/min, refresh 10/min); one trusted
// proxy so tests can choose the client IP with X-Forwarded-For. The per-client share of the hashing
// gate is raised here so concurrent tests count the limiter alone (the share has its own tests).
let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext({ TRUST_PROXY: '1', ARGON2_PER_CLIENT: '1000' })
})
afterAll(() => ctx.close())

let ipCounter = 0
const freshIp = () => `198.51.100.${++ipCounter}`
const loginAs = (email: string, password: string, ip = freshIp()) =>
  ctx.call('POST', '/v1/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': `10.9.9.9, ${ip}` } })
const newAccount = async () => {
  const email = `rl-${crypto.randomUUID()}@example.test`
  const res = await ctx.call('POST', '/v1/auth/register', {
    body: { email, password: 'correct horse battery staple', displayName: 'R' },
    headers: { 'x-forwarded-for': freshIp() },
  })
  expect(res.status).toBe(201)
  return { email, password: 'correct horse battery staple' }
}

const POLICY = '"password-pair";q=5;w=60, "password-account";q=50;w=60, "password-ip-failures";q=50;w=60, "password-ip";q=300;w=60'

describe('login attempt limits (the policy is in docs/auth.md; attacks on it in test/security/password-attempts.test.ts)', () => {
  test('a sixth failure from one address for one account gets 429 with Retry-After, RateLimit-Policy and RateLimit (problem+json), even with the right password', async () => {
    const a = await newAccount()
    const ip = freshIp()
    for (let i = 0; i < 5; i++) {
      const failed = await loginAs(a.email, 'wrong password!', ip)
      expect(failed.status).toBe(401)
      expect(failed.headers.get('ratelimit-policy')).toBe(POLICY)
      // The pair's unit comes back after 12 s, so its count is exact; the larger budgets refill faster.
      expect(failed.headers.get('ratelimit')).toMatch(
        new RegExp(
          `^"password-pair";r=${4 - i};t=\\d+, "password-account";r=\\d+;t=\\d+, "password-ip-failures";r=\\d+;t=\\d+, "password-ip";r=\\d+;t=\\d+$`,
        ),
      )
    }
    const sixth = await loginAs(a.email, a.password, ip)
    expect(sixth.status).toBe(429)
    expect(sixth.headers.get('content-type')).toBe('application/problem+json')
    const retryAfter = Number(sixth.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(sixth.headers.get('ratelimit-policy')).toBe(POLICY)
    expect(sixth.headers.get('ratelimit')).toMatch(new RegExp(`^"password-pair";r=0;t=${retryAfter}, "password-account";r=4[5-9];`))
    const problem = await json<{ status: number; type: string; detail: string }>(sixth)
    expect(problem.status).toBe(429)
    expect(problem.type).toContain('quota-exceeded')
    expect(problem.detail).toContain('password-pair')
    // Case and spaces do not make a new account key.
    expect((await loginAs(` ${a.email.toUpperCase()} `, a.password, ip)).status).toBe(429)
  })

  test('successes are not counted as failures: the owner signs in ten times in a row from one address', async () => {
    const a = await newAccount()
    const ip = freshIp()
    for (let i = 0; i < 10; i++) expect((await loginAs(a.email, a.password, ip)).status).toBe(200)
    const last = await loginAs(a.email, a.password, ip)
    const state = last.headers
      .get('ratelimit')!
      .match(/^"password-pair";r=4;t=\d+, "password-account";r=49;t=\d+, "password-ip-failures";r=49;t=\d+, "password-ip";r=(\d+);/)
    // Every check counts on the address (11 so far; a slow run gets one back per 200 ms).
    expect(Number(state?.[1])).toBeGreaterThanOrEqual(289)
    expect(Number(state?.[1])).toBeLessThan(295)
  })

  test('200 concurrent wrong logins for one account from one address: exactly the limit is checked, the rest get 429', async () => {
    const a = await newAccount()
    const ip = freshIp()
    const answers = await Promise.all(Array.from({ length: 200 }, () => loginAs(a.email, 'wrong password!', ip)))
    const statuses = answers.map((r) => r.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(5)
    expect(statuses.filter((s) => s === 429)).toHaveLength(195)
  })

  test('with Redis stopped, logins still answer and the in-process limiter says 429 past the limit', async () => {
    const warn = spyOn(log, 'warn').mockImplementation(() => {})
    await ctx.redisServer.stop()
    try {
      const a = { email: `down-${crypto.randomUUID()}@example.test`, password: 'correct horse battery staple' }
      // Registering (and its limiter) also works without Redis.
      const reg = await ctx.call('POST', '/v1/auth/register', {
        body: { ...a, displayName: 'D' },
        headers: { 'x-forwarded-for': freshIp() },
      })
      expect(reg.status).toBe(201)
      const ip = freshIp()
      const first = await loginAs(a.email, a.password, ip)
      expect(first.status).toBe(200)
      const { accessToken } = await json<{ accessToken: string }>(first)
      expect((await ctx.call('GET', '/v1/me', { token: accessToken })).status).toBe(200)
      // The success was given back in memory too: five failures still fit.
      for (let i = 0; i < 5; i++) expect((await loginAs(a.email, 'wrong password!', ip)).status).toBe(401)
      const sixth = await loginAs(a.email, a.password, ip)
      expect(sixth.status).toBe(429)
      expect(sixth.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(sixth.headers.get('ratelimit')).toMatch(/^"password-pair";r=0;t=\d+, /)
      // The outage was reported, but only once despite many limiter calls.
      const redisWarnings = warn.mock.calls.filter((c) => (c[0] as { component?: string }).component === 'redis')
      expect(redisWarnings.length).toBe(1)
    } finally {
      await ctx.redisServer.start()
      warn.mockRestore()
    }
  })
})

describe('register and refresh limits', () => {
  test('register: 5 per minute per IP', async () => {
    const ip = freshIp()
    const attempt = () =>
      ctx.call('POST', '/v1/auth/register', {
        body: { email: `reg-${crypto.randomUUID()}@example.test`, password: 'correct horse battery staple', displayName: 'R' },
        headers: { 'x-forwarded-for': ip },
      })
    for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(201)
    const sixth = await attempt()
    expect(sixth.status).toBe(429)
    expect(sixth.headers.get('ratelimit-policy')).toBe('"register";q=5;w=60')
  })

  test('refresh: 10 per minute for one token family', async () => {
    const a = await newAccount()
    const first = await json<{ refreshToken: string }>(await loginAs(a.email, a.password))
    // Replaying the same token inside the grace window is harmless to the session and counts each time.
    for (let i = 0; i < 10; i++) {
      const r = await ctx.call('POST', '/v1/auth/refresh', {
        body: { refreshToken: first.refreshToken },
        headers: { 'x-forwarded-for': freshIp() },
      })
      expect(r.status).toBe(200)
    }
    const eleventh = await ctx.call('POST', '/v1/auth/refresh', {
      body: { refreshToken: first.refreshToken },
      headers: { 'x-forwarded-for': freshIp() },
    })
    expect(eleventh.status).toBe(429)
    expect(eleventh.headers.get('ratelimit-policy')).toBe('"refresh";q=10;w=60')
  })
})

describe('bounded hashing', () => {
  test('when every Argon2 slot and the queue are taken, login answers 503 with Retry-After and other routes still answer', async () => {
    const gate = hashGate(ctx.deps.config)
    const release: (() => void)[] = []
    let open = false
    const hold = () => (open ? Promise.resolve() : new Promise<void>((r) => release.push(r)))
    const held = Array.from({ length: gate.limit + gate.queueLimit }, () => gate.run(hold))
    try {
      expect(gate.inFlight).toBe(gate.limit)
      expect(gate.queued).toBe(gate.queueLimit)
      const reg = await ctx.call('POST', '/v1/auth/register', {
        body: { email: `x-${crypto.randomUUID()}@example.test`, password: 'correct horse battery staple', displayName: 'R' },
        headers: { 'x-forwarded-for': freshIp() },
      })
      expect(reg.status).toBe(503) // register hashes too: refused the same way
      const res = await loginAs(`x-${crypto.randomUUID()}@example.test`, 'some password')
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect((await ctx.call('GET', '/v1/tasks')).status).toBe(200)
    } finally {
      // Queued holders start as earlier ones finish and, once open, finish at once.
      open = true
      for (const r of release.splice(0)) r()
      await Promise.all(held)
    }
    expect(gate.inFlight).toBe(0)
  })
})
