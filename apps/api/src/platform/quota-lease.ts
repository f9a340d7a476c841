/**
 * Quota leases: a counter shared in Redis, spent locally. Instead of one Redis round trip per
 * request, an instance takes a small batch of a caller's units from Redis at once (one GCRA step of
 * `n` units, `gcraTake`) and spends them from memory; units it has not spent when the lease ends
 * (`LEASE_HOLD_MS` after it was taken) go back to Redis. Every request served has consumed a unit in
 * Redis, so callers never get more than their quota across instances; an instance may hold at most
 * `LEASE_MAX_SHARE` of a quota for at most the hold time, during which another instance can refuse
 * a request the caller still had room for. This file is pure (no I/O, an injected clock).
 */

/** How long taken units are kept before the rest go back to Redis. */
export const LEASE_HOLD_MS = 1_000
/** The largest part of a quota one instance may take at once (10 %: 3 of the anonymous 30). */
export const LEASE_MAX_SHARE = 0.1
/** Hold times after which an idle key's lease size is forgotten. */
const IDLE_HOLDS = 10

/**
 * One GCRA step taking up to `want` units (mirrors TAKE_LUA in rate-limit.ts): each unit moves the
 * theoretical arrival time by `interval`; units are free while the TAT stays within `tolerance` of
 * now. Grants as many as are free (0 = refused, with the wait until the next unit).
 */
export function gcraTake(
  tat: number | undefined,
  now: number,
  interval: number,
  tolerance: number,
  want: number,
): { granted: number; retryAfterMs: number; remaining: number; resetMs: number; newTat: number | null } {
  const start = tat === undefined || tat < now ? now : tat
  const free = Math.floor((now + tolerance - start) / interval)
  const granted = Math.max(0, Math.min(want, free))
  if (granted === 0) {
    const wait = Math.max(1, start + interval - tolerance - now)
    return { granted: 0, retryAfterMs: wait, remaining: 0, resetMs: wait, newTat: null }
  }
  const newTat = start + granted * interval
  return { granted, retryAfterMs: 0, remaining: Math.floor((now + tolerance - newTat) / interval), resetMs: newTat - now, newTat }
}

/** What Redis granted: `granted` units, and the caller's state after them as Redis saw it. */
export type LeaseGrant = { granted: number; remaining: number; resetMs: number; retryAfterMs: number }
/** One request answered from a lease: units left to the caller (this lease's plus Redis') and the reset. */
export type LeaseSpend = { remaining: number; resetMs: number }
/** Units to give back to Redis for one key. */
export type LeaseReturn = { key: string; units: number }

type Lease = {
  units: number
  /** Units spent from this lease (sizes the next one). */
  spent: number
  takenAt: number
  /** Redis' remaining and reset when the lease was taken. */
  remaining: number
  resetAt: number
  /** Size of the next request to Redis. */
  next: number
}

/** The largest lease for a quota of `limit`: at least 1, at most LEASE_MAX_SHARE of it. */
export const leaseCap = (limit: number) => Math.max(1, Math.floor(limit * LEASE_MAX_SHARE))

export class QuotaLeases {
  private readonly leases = new Map<string, Lease>()
  constructor(
    private readonly clock: () => number = Date.now,
    private readonly holdMs = LEASE_HOLD_MS,
    private readonly maxKeys = 50_000,
  ) {}

  /** Spends one unit of `key`'s live lease, or undefined when there is none (ask Redis: `wanted`). */
  spend(key: string): LeaseSpend | undefined {
    const lease = this.leases.get(key)
    if (!lease || lease.units === 0 || this.clock() - lease.takenAt >= this.holdMs) return undefined
    lease.units--
    lease.spent++
    // A lease spent before its time is up was too small: ask for twice as many next time.
    if (lease.units === 0) lease.next = Math.min(lease.next * 2, Number.MAX_SAFE_INTEGER)
    return { remaining: lease.remaining + lease.units, resetMs: Math.max(0, lease.resetAt - this.clock()) }
  }

  /** How many units to ask Redis for: the next size this key has earned, within its cap. */
  wanted(key: string, limit: number): number {
    return Math.min(leaseCap(limit), Math.max(1, this.leases.get(key)?.next ?? 1))
  }

  /**
   * Stores what Redis granted for `key` (spent by `spend`) and returns the units of the previous
   * lease that are still unspent, to give back.
   */
  store(key: string, grant: LeaseGrant): LeaseReturn | undefined {
    const now = this.clock()
    const old = this.leases.get(key)
    const back = old && old.units > 0 ? { key, units: old.units } : undefined
    if (grant.granted === 0) {
      if (old) old.units = 0
      return back
    }
    this.leases.delete(key) // re-insert so Map order tracks recency
    this.leases.set(key, {
      units: grant.granted,
      spent: 0,
      takenAt: now,
      remaining: grant.remaining,
      resetAt: now + grant.resetMs,
      next: old?.next ?? grant.granted,
    })
    if (this.leases.size > this.maxKeys) this.evictOldest(this.leases.size - this.maxKeys)
    return back
  }

  /**
   * Ends the leases older than the hold time: their unspent units, to give back. A lease ended with
   * units left was larger than needed, so the next one is sized by what was spent. The size is
   * remembered for a while (IDLE_HOLDS × the hold time), then the key is forgotten.
   */
  expire(): LeaseReturn[] {
    const now = this.clock()
    const back: LeaseReturn[] = []
    for (const [key, lease] of this.leases) {
      const age = now - lease.takenAt
      if (age < this.holdMs) continue
      if (lease.units > 0) {
        back.push({ key, units: lease.units })
        lease.units = 0
        lease.next = Math.max(1, lease.spent)
      }
      if (age >= this.holdMs * IDLE_HOLDS) this.leases.delete(key)
    }
    return back
  }

  private evictOldest(count: number): void {
    // Forgetting a lease only loses its spare units (they age out in Redis): fails closed, briefly.
    for (const key of this.leases.keys()) {
      if (count-- <= 0) break
      this.leases.delete(key)
    }
  }

  has(key: string): boolean {
    return this.leases.has(key)
  }

  get size(): number {
    return this.leases.size
  }
}
