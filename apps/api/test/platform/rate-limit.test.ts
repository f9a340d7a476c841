import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  accountKey,
  clientIp,
  gcraMultiStep,
  gcraParameters,
  gcraRefund,
  gcraStep,
  MemoryRateStore,
  RateLimiter,
  rateLimitHeader,
  rateLimitHeaders,
  rateLimitPolicyHeader,
  retryAfterSeconds,
} from '../../src/platform/rate-limit'
import { RedisHandle } from '../../src/platform/redis'
import { startTestRedis, type TestRedis } from '../support/redis-server'

describe('RateLimit header formatting (draft-ietf-httpapi-ratelimit-headers, structured fields)', () => {
  const login = { name: 'login', limit: 5, windowSeconds: 60 }
  test('policy and state', () => {
    expect(rateLimitPolicyHeader(login)).toBe('"login";q=5;w=60')
    expect(rateLimitHeader(login, { remaining: 0, resetMs: 41_001 })).toBe('"login";r=0;t=42')
    expect(rateLimitHeader(login, { remaining: 3, resetMs: 0 })).toBe('"login";r=3;t=0')
    expect(rateLimitHeader(login, { remaining: -1, resetMs: -5 })).toBe('"login";r=0;t=0')
  })
  test('several policies on one answer are listed in order', () => {
    const pair = { name: 'pair', limit: 5, windowSeconds: 60 }
    expect(
      rateLimitHeaders(
        [login, pair],
        [
          { remaining: 2, resetMs: 1_500 },
          { remaining: 0, resetMs: 12_000 },
        ],
      ),
    ).toEqual({
      'ratelimit-policy': '"login";q=5;w=60, "pair";q=5;w=60',
      ratelimit: '"login";r=2;t=2, "pair";r=0;t=12',
    })
  })
  test('names are escaped as sf-strings', () => {
    expect(rateLimitPolicyHeader({ name: 'a"b\\c', limit: 1, windowSeconds: 1 })).toBe('"a\\"b\\\\c";q=1;w=1')
  })
  test('Retry-After is whole seconds, rounded up, at least 1', () => {
    expect(retryAfterSeconds(1)).toBe('1')
    expect(retryAfterSeconds(0)).toBe('1')
    expect(retryAfterSeconds(12_000)).toBe('12')
    expect(retryAfterSeconds(12_001)).toBe('13')
  })
})

describe('GCRA (pure step)', () => {
  const { interval, tolerance } = gcraParameters({ name: 'x', limit: 5, windowSeconds: 60 })
  test('parameters', () => expect([interval, tolerance]).toEqual([12_000, 60_000]))

  test('a burst of exactly the limit passes, the next waits one interval, then one more passes', () => {
    let tat: number | undefined
    const now = 1_000_000
    const remaining: number[] = []
    for (let i = 0; i < 5; i++) {
      const step = gcraStep([tat], now, interval, tolerance)
      expect(step.allowed).toBe(true)
      remaining.push(step.remaining)
      tat = step.newTats![0]
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0])
    const denied = gcraStep([tat], now, interval, tolerance)
    expect(denied).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 12_000, newTats: null })
    expect(gcraStep([tat], now + 11_999, interval, tolerance).allowed).toBe(false)
    expect(gcraStep([tat], now + 12_000, interval, tolerance).allowed).toBe(true)
  })

  test('all keys must allow; a denial on one key consumes nothing on the other', () => {
    const now = 5_000_000
    const full = now + tolerance // key already at its limit
    const step = gcraStep([undefined, full], now, interval, tolerance)
    expect(step.allowed).toBe(false)
    expect(step.newTats).toBeNull()
  })

  test('several policies at once: each key keeps its own interval, a denial on one consumes none', () => {
    const small = gcraParameters({ name: 's', limit: 2, windowSeconds: 60 }) // 30 s per unit
    const large = gcraParameters({ name: 'l', limit: 60, windowSeconds: 60 }) // 1 s per unit
    const now = 9_000_000
    let tats: (number | undefined)[] = [undefined, undefined]
    for (const left of [1, 0]) {
      const step = gcraMultiStep(
        [
          { tat: tats[0], ...small },
          { tat: tats[1], ...large },
        ],
        now,
      )
      expect(step.allowed).toBe(true)
      expect(step.states[0]!.remaining).toBe(left)
      tats = step.newTats!
    }
    expect(tats).toEqual([now + 60_000, now + 2_000])
    const denied = gcraMultiStep(
      [
        { tat: tats[0], ...small },
        { tat: tats[1], ...large },
      ],
      now,
    )
    expect(denied).toMatchObject({ allowed: false, retryAfterMs: 30_000, newTats: null })
    // The spent key reports 0 and its wait; the other reports what it still has (nothing consumed).
    expect(denied.states).toEqual([
      { remaining: 0, resetMs: 30_000 },
      { remaining: 58, resetMs: 2_000 },
    ])
  })

  test('a refund moves the TAT back one interval and forgets the key once that reaches now', () => {
    expect(gcraRefund(undefined, 100, 10)).toBeUndefined()
    expect(gcraRefund(130, 100, 10)).toBe(120)
    expect(gcraRefund(110, 100, 10)).toBeUndefined()
    const clock = 0
    const store = new MemoryRateStore(10, () => clock)
    for (let i = 0; i < 5; i++) expect(store.consume(['k'], interval, tolerance).allowed).toBe(true)
    expect(store.consume(['k'], interval, tolerance).allowed).toBe(false)
    store.refund([{ key: 'k', interval }])
    expect(store.consume(['k'], interval, tolerance).allowed).toBe(true)
    for (let i = 0; i < 6; i++) store.refund([{ key: 'k', interval }])
    expect(store.size).toBe(0)
  })

  test('the memory store applies the same rule and stays bounded', () => {
    let clock = 0
    const store = new MemoryRateStore(3, () => clock)
    for (let i = 0; i < 5; i++) expect(store.consume(['k'], interval, tolerance).allowed).toBe(true)
    expect(store.consume(['k'], interval, tolerance).allowed).toBe(false)
    clock += 12_000
    expect(store.consume(['k'], interval, tolerance).allowed).toBe(true)
    for (let i = 0; i < 10; i++) store.consume([`other-${i}`], interval, tolerance)
    expect(store.size).toBeLessThanOrEqual(3)
  })
})

describe('client identity', () => {
  const server = { requestIP: () => ({ address: '203.0.113.7', family: 'IPv4', port: 1234 }) }
  const req = (xff?: string) => new Request('http://localhost/', { headers: xff ? { 'x-forwarded-for': xff } : {} })
  test('the socket address unless proxies are trusted', () => {
    expect(clientIp(req('1.1.1.1'), server as never, 0)).toBe('203.0.113.7')
    expect(clientIp(req(), null, 0)).toBeUndefined()
  })
  test('with n trusted proxies, the n-th X-Forwarded-For entry from the right', () => {
    expect(clientIp(req('6.6.6.6, 1.1.1.1'), server as never, 1)).toBe('1.1.1.1')
    expect(clientIp(req('6.6.6.6, 1.1.1.1, 10.0.0.2'), server as never, 2)).toBe('1.1.1.1')
    expect(clientIp(req('1.1.1.1'), server as never, 3)).toBe('1.1.1.1')
    expect(clientIp(req(), server as never, 1)).toBe('203.0.113.7')
  })
  test('account keys are hashed, case and spacing are the caller’s job', () => {
    expect(accountKey('email:a@b.c')).toMatch(/^acct:[\w-]{32}$/)
    expect(accountKey('email:a@b.c')).not.toContain('a@b.c')
  })
})

describe('RateLimiter against a real Redis (Lua script, Redis clock)', () => {
  let redis: TestRedis
  let handle: RedisHandle
  beforeAll(async () => {
    redis = await startTestRedis()
    handle = new RedisHandle(redis.url)
  })
  afterAll(async () => {
    handle.close()
    await redis.dispose()
  })

  test('limit, then 429 with the retry time; keys expire on their own', async () => {
    const limiter = new RateLimiter(handle)
    const policy = { name: 'unit', limit: 3, windowSeconds: 30 }
    const results = []
    for (let i = 0; i < 4; i++) results.push(await limiter.consume(policy, ['ip:1']))
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false])
    expect(results.map((r) => r.source)).toEqual(['redis', 'redis', 'redis', 'redis'])
    expect(results[2]!.remaining).toBe(0)
    expect(results[3]!.retryAfterMs).toBeGreaterThan(9_000)
    expect(results[3]!.retryAfterMs).toBeLessThanOrEqual(10_000)
    const ttl = await handle.run((c) => c.pttl('rl:unit:ip:1'))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(30_000)
  })

  test('multi-key: a denial on the account does not burn the IP’s quota', async () => {
    const limiter = new RateLimiter(handle)
    const policy = { name: 'multi', limit: 2, windowSeconds: 60 }
    await limiter.consume(policy, ['acct:a'])
    await limiter.consume(policy, ['acct:a'])
    expect((await limiter.consume(policy, ['ip:9', 'acct:a'])).allowed).toBe(false)
    expect(await handle.run((c) => c.exists('rl:multi:ip:9'))).toBe(false)
    expect((await limiter.consume(policy, ['ip:9', 'acct:b'])).remaining).toBe(1)
  })

  test('charges under different policies are checked together; a refund gives one unit back in Redis', async () => {
    const limiter = new RateLimiter(handle)
    const pair = { policy: { name: 'pair', limit: 2, windowSeconds: 60 }, key: 'acct:x|ip:1' }
    const ip = { policy: { name: 'ipall', limit: 100, windowSeconds: 60 }, key: 'ip:1' }
    const first = await limiter.consumeAll([pair, ip])
    expect(first).toMatchObject({ allowed: true, source: 'redis' })
    expect(first.states.map((s) => s.remaining)).toEqual([1, 99])
    await limiter.refund([pair], first.source)
    const again = await limiter.consumeAll([pair, ip])
    expect(again.states.map((s) => s.remaining)).toEqual([1, 98])
    expect((await limiter.consumeAll([pair, ip])).allowed).toBe(true)
    const denied = await limiter.consumeAll([pair, ip])
    expect(denied.allowed).toBe(false)
    expect(denied.retryAfterMs).toBeGreaterThan(29_000)
    expect(denied.states.map((s) => s.remaining)).toEqual([0, 97])
    // Refunding every unit deletes the key rather than leaving a stale one.
    await limiter.refund([pair], 'redis')
    await limiter.refund([pair], 'redis')
    expect(await handle.run((c) => c.exists('rl:pair:acct:x|ip:1'))).toBe(false)
  })

  test('a script flush (NOSCRIPT) is recovered by sending the script again', async () => {
    const limiter = new RateLimiter(handle)
    await handle.run((c) => c.send('SCRIPT', ['FLUSH']))
    expect((await limiter.consume({ name: 'flush', limit: 1, windowSeconds: 1 }, ['k'])).source).toBe('redis')
  })
})
