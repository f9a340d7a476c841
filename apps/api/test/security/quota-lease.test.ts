import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { gcraTake, LEASE_HOLD_MS, leaseCap, QuotaLeases } from '../../src/platform/quota-lease'
import { gcraMultiStep, gcraParameters, RateLimiter, type RatePolicy } from '../../src/platform/rate-limit'
import { ReadQuota } from '../../src/platform/read-limit'
import { createTestContext, type TestContext } from '../support/context'

/** The read limit's leases (platform/quota-lease.ts): units taken from Redis in batches, spent locally. */
describe('gcraTake', () => {
  const { interval, tolerance } = gcraParameters({ name: 'p', limit: 30, windowSeconds: 60 })

  test('grants as many units as are free, never more, and the same as that many single steps', () => {
    const first = gcraTake(undefined, 1_000, interval, tolerance, 10)
    expect(first.granted).toBe(10)
    expect(first.remaining).toBe(20)
    // Ten single GCRA steps land on the same TAT.
    let tat: number | undefined
    for (let i = 0; i < 10; i++) tat = gcraMultiStep([{ tat, interval, tolerance }], 1_000).newTats![0]
    expect(first.newTat).toBe(tat!)
    const rest = gcraTake(first.newTat!, 1_000, interval, tolerance, 50)
    expect(rest.granted).toBe(20)
    expect(rest.remaining).toBe(0)
  })

  test('refuses with the wait until the next unit when nothing is free', () => {
    const full = gcraTake(undefined, 0, interval, tolerance, 30).newTat!
    const refused = gcraTake(full, 0, interval, tolerance, 3)
    expect(refused).toMatchObject({ granted: 0, remaining: 0, retryAfterMs: interval, newTat: null })
    expect(gcraTake(full, interval, interval, tolerance, 3).granted).toBe(1)
  })
})

describe('QuotaLeases', () => {
  test('spends a lease locally, then asks for twice as many, within 10 % of the quota', () => {
    const now = 0
    const leases = new QuotaLeases(() => now)
    expect(leases.spend('k')).toBeUndefined()
    expect(leases.wanted('k', 1_000)).toBe(1)
    leases.store('k', { granted: 1, remaining: 999, resetMs: 60, retryAfterMs: 0 })
    expect(leases.spend('k')).toEqual({ remaining: 999, resetMs: 60 })
    expect(leases.spend('k')).toBeUndefined()
    expect(leases.wanted('k', 1_000)).toBe(2)
    leases.store('k', { granted: 2, remaining: 997, resetMs: 180, retryAfterMs: 0 })
    expect(leases.spend('k')?.remaining).toBe(998) // Redis' 997 plus the one still held
    leases.spend('k')
    expect(leases.wanted('k', 1_000)).toBe(4)
    for (let i = 0; i < 20; i++) {
      const want = leases.wanted('k', 1_000)
      leases.store('k', { granted: want, remaining: 0, resetMs: 0, retryAfterMs: 0 })
      let spent = 0
      while (leases.spend('k')) spent++
      expect(spent).toBe(want)
    }
    expect(leases.wanted('k', 1_000)).toBe(leaseCap(1_000))
    expect(leaseCap(1_000)).toBe(100)
    expect(leaseCap(30)).toBe(3)
    expect(leaseCap(5)).toBe(1)
  })

  test('a lease ends after the hold time: its unspent units are returned and size the next one', () => {
    let now = 0
    const leases = new QuotaLeases(() => now)
    leases.store('k', { granted: 8, remaining: 0, resetMs: 0, retryAfterMs: 0 })
    leases.spend('k')
    leases.spend('k')
    now = LEASE_HOLD_MS - 1
    expect(leases.expire()).toEqual([])
    expect(leases.spend('k')).toBeDefined()
    now = LEASE_HOLD_MS
    expect(leases.spend('k')).toBeUndefined() // past its time: never spent, only returned
    expect(leases.expire()).toEqual([{ key: 'k', units: 5 }])
    expect(leases.expire()).toEqual([])
    expect(leases.wanted('k', 1_000)).toBe(3) // three were spent
    now = LEASE_HOLD_MS * 20
    leases.expire()
    expect(leases.size).toBe(0)
    expect(leases.has('k')).toBe(false)
  })

  test('storing a new lease returns what an old, unexpired-but-stale lease still held; a refusal ends it', () => {
    let now = 0
    const leases = new QuotaLeases(() => now)
    leases.store('k', { granted: 4, remaining: 0, resetMs: 0, retryAfterMs: 0 })
    now = LEASE_HOLD_MS
    expect(leases.store('k', { granted: 2, remaining: 0, resetMs: 0, retryAfterMs: 0 })).toEqual({ key: 'k', units: 4 })
    expect(leases.store('k', { granted: 0, remaining: 0, resetMs: 5, retryAfterMs: 5 })).toEqual({ key: 'k', units: 2 })
    expect(leases.spend('k')).toBeUndefined()
  })

  test('memory is bounded: the oldest leases are forgotten first', () => {
    const leases = new QuotaLeases(() => 0, LEASE_HOLD_MS, 3)
    for (const k of ['a', 'b', 'c', 'd']) leases.store(k, { granted: 2, remaining: 0, resetMs: 0, retryAfterMs: 0 })
    expect(leases.size).toBe(3)
    expect(leases.spend('a')).toBeUndefined()
    expect(leases.spend('d')).toBeDefined()
  })
})

describe('ReadQuota across two instances sharing Redis', () => {
  let ctx: TestContext
  beforeAll(async () => {
    ctx = await createTestContext()
  })
  afterAll(async () => {
    await ctx.close()
  })
  // An hour's window: no unit frees up by the passing of time while the test runs.
  const policy: RatePolicy = { name: 'read-lease-test', limit: 50, windowSeconds: 3_600 }

  test('together they allow exactly the quota; units one instance leaves unspent go back to Redis for the other', async () => {
    let now = 0
    const one = new ReadQuota(new RateLimiter(ctx.deps.redis), () => now)
    const two = new ReadQuota(new RateLimiter(ctx.deps.redis), () => now)
    try {
      const key = `user:${crypto.randomUUID()}`
      // Instance one reads fast enough to hold a lease of several units, then stops.
      let allowedOne = 0
      for (let i = 0; i < 20; i++) if ((await one.consume(policy, key)).allowed) allowedOne++
      expect(allowedOne).toBe(20)
      // Instance two, concurrently, spends the rest of the quota and is then refused.
      const decisions = await Promise.all(Array.from({ length: 60 }, () => two.consume(policy, key)))
      const allowedTwo = decisions.filter((d) => d.allowed).length
      const refused = decisions.find((d) => !d.allowed)!
      expect(refused.retryAfterMs).toBeGreaterThan(0)
      expect(allowedOne + allowedTwo).toBeLessThanOrEqual(policy.limit)
      const heldByOne = policy.limit - allowedOne - allowedTwo
      expect(heldByOne).toBeGreaterThan(0)
      expect(heldByOne).toBeLessThanOrEqual(leaseCap(policy.limit))
      // Instance one's lease ends: its spare units return to Redis and instance two gets exactly those.
      now += LEASE_HOLD_MS
      await one.returnExpired()
      await two.returnExpired()
      const after = await Promise.all(Array.from({ length: 10 }, () => two.consume(policy, key)))
      expect(after.filter((d) => d.allowed).length).toBe(heldByOne)
    } finally {
      one.stop()
      two.stop()
    }
  })
})
