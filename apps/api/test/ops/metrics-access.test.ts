import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { tasks, users } from '@vstep/db'
import { metricsAccess, statusSent, tokenMatches } from '../../src/metrics/access'
import { createTestContext, testConfig, type TestContext } from '../support/context'

/**
 * Issue 11, findings 11 and 14: /metrics counted a 400 as 500 and an unmatched 404 or a preflight
 * 204 as 200, and /metrics and /readyz details were public.
 */
const METRICS_TOKEN = 'metrics-token-for-tests-0123456789'
let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext({ METRICS_TOKEN, CORS_ORIGINS: 'http://app.example' })
})
afterAll(() => ctx.close())

type Sample = { name: string; labels: Record<string, string>; value: number }

/** A Prometheus text-format parser (exposition format 0.0.4): comments, names, labels, values. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/)
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, raw] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return samples
}

const scrape = async (): Promise<Sample[]> => {
  const res = await ctx.call('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  expect(res.status).toBe(200)
  return parsePrometheus(await res.text())
}
const requestCounts = (samples: Sample[]) => samples.filter((s) => s.name === 'http_requests_total')

describe('GET /metrics records the status actually sent', () => {
  test('problem answers, a 304, an unmatched 404 and a CORS preflight each count under their real status', async () => {
    const before = requestCounts(await scrape())
    const [task] = await ctx.deps.db.select().from(tasks).limit(1)
    const sent: { method: string; status: number }[] = []
    const send = async (method: string, path: string, init: Parameters<TestContext['call']>[2] = {}) => {
      const res = await ctx.call(method, path, init)
      await res.arrayBuffer()
      sent.push({ method, status: res.status })
      return res.status
    }
    expect(await send('GET', '/v1/tasks')).toBe(200)
    const etag = (await ctx.call('GET', `/v1/tasks/${task!.id}`)).headers.get('etag')!
    sent.push({ method: 'GET', status: 200 })
    expect(await send('GET', `/v1/tasks/${task!.id}`, { headers: { 'if-none-match': etag } })).toBe(304)
    expect(await send('POST', '/v1/auth/login', { body: '{"email": ', headers: { 'content-type': 'application/json' } })).toBe(400)
    expect(await send('POST', '/v1/auth/register', { body: { email: 'not-an-email' } })).toBe(422)
    expect(await send('GET', '/v1/me')).toBe(401)
    // A NUL character PostgreSQL cannot store: answered 4xx (the status once counted as 500).
    const nul = await send('POST', '/v1/auth/register', {
      body: { email: `nul-${crypto.randomUUID()}@example.test`, password: 'correct horse battery staple', displayName: 'a\u0000b' },
    })
    expect(nul >= 400 && nul < 500).toBe(true)
    expect(await send('GET', '/no/such/route')).toBe(404)
    expect(await send('OPTIONS', '/v1/submissions', { headers: { origin: 'http://app.example' } })).toBe(204)
    expect(await send('GET', '/v1/tasks/not-a-uuid')).toBe(422)

    const after = requestCounts(await scrape())
    const total = (samples: Sample[], method: string, status: number) =>
      samples.filter((s) => s.labels.method === method && s.labels.status === String(status)).reduce((n, s) => n + s.value, 0)
    const expected = new Map<string, number>()
    for (const { method, status } of sent) expected.set(`${method} ${status}`, (expected.get(`${method} ${status}`) ?? 0) + 1)
    for (const [key, n] of expected) {
      const [method, status] = key.split(' ') as [string, string]
      expect({ key, n: total(after, method, Number(status)) - total(before, method, Number(status)) }).toEqual({ key, n })
    }
    // Nothing was counted under a status no request got.
    const statuses = new Set([...sent.map((s) => `${s.method} ${s.status}`)])
    for (const s of after) {
      const prior = before.find((b) => JSON.stringify(b.labels) === JSON.stringify(s.labels))?.value ?? 0
      if (s.value > prior) expect(statuses).toContain(`${s.labels.method} ${s.labels.status}`)
    }
    expect(after.find((s) => s.labels.route === 'unmatched' && s.labels.method === 'GET')?.labels.status).toBe('404')
    expect(after.find((s) => s.labels.method === 'OPTIONS')?.labels).toEqual({ method: 'OPTIONS', route: 'cors-preflight', status: '204' })
    expect(after.some((s) => s.labels.status === '500')).toBe(false)
  })

  test('statusSent prefers a returned Response over set.status', () => {
    expect(statusSent(new Response(null, { status: 304 }), 200)).toBe(304)
    expect(statusSent('text', 201)).toBe(201)
    expect(statusSent(undefined, undefined)).toBe(200)
  })
})

describe('/metrics needs the metrics token', () => {
  test('no token or a wrong one gets 401 problem+json; the right one gets the metrics', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-wrong-token-000', `Bearer ${METRICS_TOKEN}x`, METRICS_TOKEN]) {
      const res = await ctx.call('GET', '/metrics', authorization ? { headers: { authorization } } : {})
      expect(res.status).toBe(401)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect(await res.text()).not.toContain('http_requests_total')
    }
    expect((await scrape()).some((s) => s.name === 'vstep_queue_depth')).toBe(true)
  })

  test('without METRICS_TOKEN, /metrics is open outside production and off in production', () => {
    const dev = testConfig()
    expect(metricsAccess(dev, null)).toBe('granted')
    expect(metricsAccess({ ...dev, NODE_ENV: 'production' }, null)).toBe('disabled')
    expect(metricsAccess({ ...dev, NODE_ENV: 'production', METRICS_TOKEN }, `Bearer ${METRICS_TOKEN}`)).toBe('granted')
    expect(tokenMatches('abc', 'abcd')).toBe(false)
    expect(() => testConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/)
  })
})

describe('/readyz tells anonymous callers only ready / not ready', () => {
  test('anonymous and learners get the status alone; the metrics token and an admin get the checks', async () => {
    const anonymous = await ctx.call('GET', '/readyz')
    expect(anonymous.status).toBe(200)
    expect(await anonymous.json()).toEqual({ status: 'ready' })
    const forged = await ctx.call('GET', '/readyz', { headers: { authorization: 'Bearer not-a-token' } })
    expect(await forged.json()).toEqual({ status: 'ready' })

    const withToken = await ctx.call('GET', '/readyz', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    expect(await withToken.json()).toEqual({ status: 'ready', checks: { database: true, redis: true } })

    const learner = await ctx.signUp()
    expect(await (await ctx.call('GET', '/readyz', { token: learner.token })).json()).toEqual({ status: 'ready' })
    await ctx.deps.db.update(users).set({ role: 'admin' }).where(eq(users.id, learner.userId))
    expect(await (await ctx.call('GET', '/readyz', { token: learner.token })).json()).toEqual({
      status: 'ready',
      checks: { database: true, redis: true },
    })
  })
})
