import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test'
import { hashGate } from '../../src/auth/passwords'
import { createTestContext, type TestContext } from '../support/context'
import { json } from './support'

// Default limits (login 5/min, register 5/min, refresh 10/min); one trusted proxy so tests can
// choose the client IP with X-Forwarded-For.
let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext({ TRUST_PROXY: '1' })
})
afterAll(() => ctx.close())

let ipCounter = 0
const freshIp = () => `198.51.100.${++ipCounter}`
const loginAs = (email: string, password: string, ip = freshIp()) =>
  ctx.call('POST', '/v1/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': `10.9.9.9, ${ip}` } })
const newAccount = async () => {
  const email = `rl-${crypto.randomUUID()}@example.test`
  const res = await ctx.call('POST', '/v1/auth/register', { body: { email, password: 'correct horse battery staple', displayName: 'R' }, headers: { 'x-forwarded-for': freshIp() } })
  expect(res.status).toBe(201)
  return { email, password: 'correct horse battery staple' }
}

describe('login rate limit', () => {
  test('a sixth login within a minute gets 429 with Retry-After, RateLimit-Policy and RateLimit (problem+json)', async () => {
    const a = await newAccount()
    const ip = freshIp()
    for (let i = 0; i < 5; i++) {
      const ok = await loginAs(a.email, i % 2 ? 'wrong password!' : a.password, ip)
      expect([200, 401]).toContain(ok.status)
      expect(ok.headers.get('ratelimit-policy')).toBe('"login";q=5;w=60')
      expect(ok.headers.get('ratelimit')).toMatch(new RegExp(`^"login";r=${4 - i};t=\\d+$`))
    }
    const sixth = await loginAs(a.email, a.password, ip)
    expect(sixth.status).toBe(429)
    expect(sixth.headers.get('content-type')).toBe('application/problem+json')
    const retryAfter = Number(sixth.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(sixth.headers.get('ratelimit-policy')).toBe('"login";q=5;w=60')
    expect(sixth.headers.get('ratelimit')).toBe(`"login";r=0;t=${retryAfter}`)
    const problem = await json<{ status: number; type: string }>(sixth)
    expect(problem.status).toBe(429)
    expect(problem.type).toContain('quota-exceeded')
  })

  test('limited per account: a sixth attempt on one account from fresh IPs is still 429', async () => {
    const a = await newAccount()
    for (let i = 0; i < 5; i++) expect((await loginAs(a.email, 'wrong password!')).status).toBe(401)
    expect((await loginAs(a.email, a.password)).status).toBe(429)
    // Case and spaces do not make a new account key.
    expect((await loginAs(` ${a.email.toUpperCase()} `, a.password)).status).toBe(429)
  })

  test('limited per IP: a sixth attempt from one IP on fresh accounts is still 429', async () => {
    const ip = freshIp()
    for (let i = 0; i < 5; i++) expect((await loginAs(`nobody-${i}-${crypto.randomUUID()}@example.test`, 'whatever pw', ip)).status).toBe(401)
    expect((await loginAs(`nobody-${crypto.randomUUID()}@example.test`, 'whatever pw', ip)).status).toBe(429)
  })

  test('200 concurrent logins against the limit let exactly the limit through', async () => {
    const a = await newAccount()
    const ip = freshIp()
    const answers = await Promise.all(Array.from({ length: 200 }, () => loginAs(a.email, a.password, ip)))
    const statuses = answers.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(5)
    expect(statuses.filter((s) => s === 429)).toHaveLength(195)
  })

  test('with Redis stopped, logins still answer and the in-process limiter says 429 past the limit', async () => {
    const warn = spyOn(console, 'warn').mockImplementation(() => {})
    await ctx.redisServer.stop()
    try {
      const a = { email: `down-${crypto.randomUUID()}@example.test`, password: 'correct horse battery staple' }
      // Registering (and its limiter) also works without Redis.
      const reg = await ctx.call('POST', '/v1/auth/register', { body: { ...a, displayName: 'D' }, headers: { 'x-forwarded-for': freshIp() } })
      expect(reg.status).toBe(201)
      const ip = freshIp()
      const first = await loginAs(a.email, a.password, ip)
      expect(first.status).toBe(200)
      const { accessToken } = await json<{ accessToken: string }>(first)
      expect((await ctx.call('GET', '/v1/me', { token: accessToken })).status).toBe(200)
      for (let i = 0; i < 4; i++) expect((await loginAs(a.email, a.password, ip)).status).toBe(200)
      const sixth = await loginAs(a.email, a.password, ip)
      expect(sixth.status).toBe(429)
      expect(sixth.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(sixth.headers.get('ratelimit')).toMatch(/^"login";r=0;t=\d+$/)
      // The outage was reported, but only once despite many limiter calls.
      const redisWarnings = warn.mock.calls.filter((c) => String(c[0]).startsWith('[redis]'))
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
      const r = await ctx.call('POST', '/v1/auth/refresh', { body: { refreshToken: first.refreshToken }, headers: { 'x-forwarded-for': freshIp() } })
      expect(r.status).toBe(200)
    }
    const eleventh = await ctx.call('POST', '/v1/auth/refresh', { body: { refreshToken: first.refreshToken }, headers: { 'x-forwarded-for': freshIp() } })
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
