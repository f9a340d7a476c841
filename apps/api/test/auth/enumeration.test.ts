import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createTestContext, type TestContext } from '../support/context'
import { register } from './support'

// Real Argon2id cost (OWASP minimum m=19 MiB, t=2) so the timing comparison means something.
let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext({ ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2', RATE_LIMIT_LOGIN: '100000' })
})
afterAll(() => ctx.close())

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2
}

test('unknown email and wrong password answer identically, and their median times differ by < 20% over 50 tries each', async () => {
  const known = await register(ctx)
  const attempt = async (email: string) => {
    const started = performance.now()
    const res = await ctx.call('POST', '/v1/auth/login', { body: { email, password: 'not the right password' } })
    const elapsed = performance.now() - started
    return { elapsed, status: res.status, headers: res.headers.get('content-type'), body: await res.text() }
  }
  // Warm both paths (dummy hash creation, connection pool), then interleave so drift hits both equally.
  await attempt(known.email)
  await attempt(`ghost-warmup@example.test`)
  const wrong: number[] = []
  const unknown: number[] = []
  let wrongAnswer = ''
  let unknownAnswer = ''
  for (let i = 0; i < 50; i++) {
    const w = await attempt(known.email)
    const u = await attempt(`ghost-${i}-${crypto.randomUUID()}@example.test`)
    wrong.push(w.elapsed)
    unknown.push(u.elapsed)
    wrongAnswer = `${w.status} ${w.headers} ${w.body}`
    unknownAnswer = `${u.status} ${u.headers} ${u.body}`
  }
  expect(wrongAnswer).toBe(unknownAnswer)
  expect(wrongAnswer.startsWith('401 application/problem+json')).toBe(true)
  const [mw, mu] = [median(wrong), median(unknown)]
  console.info(`login timing medians: wrong password ${mw.toFixed(1)} ms, unknown email ${mu.toFixed(1)} ms`)
  expect(Math.abs(mw - mu) / Math.max(mw, mu)).toBeLessThan(0.2)
}, 30_000)
