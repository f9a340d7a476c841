import { createHash } from 'node:crypto'
import { type DocumentDecoration, Elysia } from 'elysia'
import type { Server } from 'bun'
import { withPreBodyCheck } from './body-guard'
import { ProblemError } from './problem'
import type { LeaseGrant } from './quota-lease'
import type { RedisHandle } from './redis'

/**
 * Rate limiting with GCRA (generic cell rate algorithm). A policy allows `limit` requests per
 * `windowSeconds`: each request pushes a key's "theoretical arrival time" (TAT) forward by
 * `interval = window / limit`; a request is allowed while the new TAT is at most `window` ahead of
 * now. So a burst of exactly `limit` passes at once, then one more every `interval`.
 *
 * Shared state lives in Redis and is updated by ONE Lua script that reads Redis' own clock
 * (`TIME`, so app-server clock skew cannot leak into limits) and checks every key of a request
 * (per IP and per account) before consuming any of them: a request denied on one key does not
 * burn quota on the other. When Redis fails, the same algorithm runs in process memory (per
 * instance) so these routes keep being guarded, and a warning is logged once per interval.
 */

export type RatePolicy = { name: string; limit: number; windowSeconds: number }
export type RateDecision = {
  allowed: boolean
  /** Requests still allowed right after this one. */
  remaining: number
  /** Milliseconds until a denied request could pass (0 when allowed). */
  retryAfterMs: number
  /** Milliseconds until the whole quota is available again (allowed) or until the next unit (denied). */
  resetMs: number
  source: 'redis' | 'memory'
}

/** Emission interval and tolerance in integer milliseconds (tolerance = interval × limit ≈ window). */
export function gcraParameters(policy: RatePolicy): { interval: number; tolerance: number } {
  const interval = Math.max(1, Math.round((policy.windowSeconds * 1000) / policy.limit))
  return { interval, tolerance: interval * policy.limit }
}

/** One key charged under one policy; a request may charge several (per IP, per account…). */
export type RateCharge = { policy: RatePolicy; key: string }
export type RateState = { remaining: number; resetMs: number }
type GcraEntry = { tat: number | undefined; interval: number; tolerance: number }

/**
 * The pure GCRA step over several keys, each with its own interval and tolerance, mirroring the Lua
 * script: all keys must allow, and only then are all TATs advanced. Returns the decision, each key's
 * state (for the RateLimit header) and the new TATs to store (null when denied: nothing is stored).
 */
export function gcraMultiStep(
  entries: GcraEntry[],
  now: number,
): { allowed: boolean; retryAfterMs: number; states: RateState[]; newTats: number[] | null } {
  let retry = 0
  const starts = entries.map((e) => (e.tat === undefined || e.tat < now ? now : e.tat))
  const newTats = entries.map((e, i) => {
    const next = starts[i]! + e.interval
    const allowAt = next - e.tolerance
    if (allowAt > now) retry = Math.max(retry, allowAt - now)
    return next
  })
  if (retry > 0) {
    // Nothing consumed: report each key as it stands (a denying key has 0 left and waits its own time).
    const states = entries.map((e, i) => {
      const wait = Math.max(0, newTats[i]! - e.tolerance - now)
      return wait > 0
        ? { remaining: 0, resetMs: wait }
        : { remaining: Math.floor((now + e.tolerance - starts[i]!) / e.interval), resetMs: starts[i]! - now }
    })
    return { allowed: false, retryAfterMs: retry, states, newTats: null }
  }
  const states = entries.map((e, i) => ({
    remaining: Math.floor((now + e.tolerance - newTats[i]!) / e.interval),
    resetMs: newTats[i]! - now,
  }))
  return { allowed: true, retryAfterMs: 0, states, newTats }
}

/** Takes back one unit per key (a request that turned out not to count, e.g. a correct password). */
export const gcraRefund = (tat: number | undefined, now: number, interval: number): number | undefined =>
  tat === undefined || tat - interval <= now ? undefined : tat - interval

/**
 * The pure GCRA step over several keys of ONE policy (the route-option limiter): the combined
 * remaining quota is the smallest one, the reset the latest one.
 */
export function gcraStep(
  tats: (number | undefined)[],
  now: number,
  interval: number,
  tolerance: number,
): { allowed: boolean; remaining: number; retryAfterMs: number; resetMs: number; newTats: number[] | null } {
  const step = gcraMultiStep(
    tats.map((tat) => ({ tat, interval, tolerance })),
    now,
  )
  if (!step.allowed) return { allowed: false, remaining: 0, retryAfterMs: step.retryAfterMs, resetMs: step.retryAfterMs, newTats: null }
  return {
    allowed: true,
    remaining: Math.min(...step.states.map((s) => s.remaining)),
    retryAfterMs: 0,
    resetMs: Math.max(...step.states.map((s) => s.resetMs)),
    newTats: step.newTats,
  }
}

/** ARGV: interval and tolerance per key, in KEYS order. Returns {allowed, retry, remaining1, reset1, …}. */
export const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local retry = 0
local starts, news = {}, {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if not tat or tat < now then tat = now end
  starts[i] = tat
  news[i] = tat + interval
  local allow_at = news[i] - tolerance
  if allow_at > now and allow_at - now > retry then retry = allow_at - now end
end
local out = {0, retry}
if retry == 0 then out[1] = 1 end
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  if retry == 0 then
    redis.call('SET', KEYS[i], string.format('%d', news[i]), 'PX', string.format('%d', news[i] - now))
    out[#out + 1] = math.floor((now + tolerance - news[i]) / interval)
    out[#out + 1] = news[i] - now
  else
    local wait = news[i] - tolerance - now
    if wait > 0 then
      out[#out + 1] = 0
      out[#out + 1] = wait
    else
      out[#out + 1] = math.floor((now + tolerance - starts[i]) / interval)
      out[#out + 1] = starts[i] - now
    end
  end
end
return out
`
const GCRA_SHA = createHash('sha1').update(GCRA_LUA).digest('hex')

/** ARGV: interval per key. Moves each key's TAT back by one interval (deleting it when that reaches now). */
export const REFUND_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat then
    local back = tat - tonumber(ARGV[i])
    if back <= now then redis.call('DEL', KEYS[i])
    else redis.call('SET', KEYS[i], string.format('%d', back), 'PX', string.format('%d', back - now)) end
  end
end
return 1
`
const REFUND_SHA = createHash('sha1').update(REFUND_LUA).digest('hex')

/**
 * KEYS[1]; ARGV: interval, tolerance, wanted units. Takes as many of the wanted units as are free
 * (quota-lease.ts, gcraTake). Returns {granted, retry, remaining, reset}.
 */
export const TAKE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local granted = math.min(tonumber(ARGV[3]), math.floor((now + tolerance - tat) / interval))
if granted <= 0 then
  local wait = math.max(1, tat + interval - tolerance - now)
  return {0, wait, 0, wait}
end
local new = tat + granted * interval
redis.call('SET', KEYS[1], string.format('%d', new), 'PX', string.format('%d', new - now))
return {granted, 0, math.floor((now + tolerance - new) / interval), new - now}
`
const TAKE_SHA = createHash('sha1').update(TAKE_LUA).digest('hex')

type StoreEntry = { key: string; interval: number; tolerance: number }
export type MultiRateDecision = {
  allowed: boolean
  /** Milliseconds until a denied request could pass (0 when allowed). */
  retryAfterMs: number
  /** Per charge, in order: what is left and when it is whole again (or, for a denying key, when it frees). */
  states: RateState[]
  source: 'redis' | 'memory'
}

/** Combines per-key states of one policy the way a single-policy caller sees them. */
const combined = (step: Omit<MultiRateDecision, 'source'>): Omit<RateDecision, 'source'> =>
  step.allowed
    ? {
        allowed: true,
        remaining: Math.min(...step.states.map((s) => s.remaining)),
        retryAfterMs: 0,
        resetMs: Math.max(...step.states.map((s) => s.resetMs)),
      }
    : { allowed: false, remaining: 0, retryAfterMs: step.retryAfterMs, resetMs: step.retryAfterMs }

/** The per-process fallback store: same algorithm, bounded number of keys. */
export class MemoryRateStore {
  private readonly tats = new Map<string, number>()
  constructor(
    private readonly maxKeys = 50_000,
    private readonly clock: () => number = Date.now,
  ) {}

  consume(keys: string[], interval: number, tolerance: number): Omit<RateDecision, 'source'> {
    return combined(this.consumeEntries(keys.map((key) => ({ key, interval, tolerance }))))
  }

  consumeEntries(entries: StoreEntry[]): Omit<MultiRateDecision, 'source'> {
    const now = this.clock()
    const step = gcraMultiStep(
      entries.map((e) => ({ tat: this.tats.get(e.key), interval: e.interval, tolerance: e.tolerance })),
      now,
    )
    if (step.newTats) {
      step.newTats.forEach((tat, i) => {
        const key = entries[i]!.key
        this.tats.delete(key) // re-insert so Map order tracks recency
        this.tats.set(key, tat)
      })
      if (this.tats.size > this.maxKeys) this.prune(now)
    }
    const { newTats: _ignored, ...decision } = step
    return decision
  }

  refund(entries: Pick<StoreEntry, 'key' | 'interval'>[]): void {
    const now = this.clock()
    for (const { key, interval } of entries) {
      const back = gcraRefund(this.tats.get(key), now, interval)
      if (back === undefined) this.tats.delete(key)
      else this.tats.set(key, back)
    }
  }

  private prune(now: number): void {
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key)
    // Still too many live keys: forget the least recently used ones (fails open for them, never closed).
    for (const key of this.tats.keys()) {
      if (this.tats.size <= this.maxKeys) break
      this.tats.delete(key)
    }
  }

  get size(): number {
    return this.tats.size
  }
}

const entriesOf = (charges: RateCharge[]): StoreEntry[] =>
  charges.map(({ policy, key }) => ({ key: `rl:${policy.name}:${key}`, ...gcraParameters(policy) }))

export class RateLimiter {
  readonly memory: MemoryRateStore
  /** After a Redis failure, go straight to memory for a while instead of paying a timeout per request. */
  private redisSkipUntil = 0
  constructor(
    private readonly redis: RedisHandle,
    memory?: MemoryRateStore,
    private readonly retryRedisAfterMs = 2_000,
  ) {
    this.memory = memory ?? new MemoryRateStore()
  }

  /** One policy over several keys (IP, account): allowed only if every key allows. */
  async consume(policy: RatePolicy, keys: string[]): Promise<RateDecision> {
    const decision = await this.consumeAll(keys.map((key) => ({ policy, key })))
    return { ...combined(decision), source: decision.source }
  }

  /** Several charges, each under its own policy, checked and consumed atomically (all or nothing). */
  async consumeAll(charges: RateCharge[]): Promise<MultiRateDecision> {
    const entries = entriesOf(charges)
    if (Date.now() < this.redisSkipUntil) return { ...this.memory.consumeEntries(entries), source: 'memory' }
    try {
      const keys = entries.map((e) => e.key)
      const args = entries.flatMap((e) => [String(e.interval), String(e.tolerance)])
      const reply = (await this.evalScript(GCRA_SHA, GCRA_LUA, keys, args)).map(Number)
      const states = entries.map((_, i) => ({ remaining: reply[2 + 2 * i]!, resetMs: reply[3 + 2 * i]! }))
      return { allowed: reply[0] === 1, retryAfterMs: reply[1]!, states, source: 'redis' }
    } catch (error) {
      this.redisFailed(error)
      return { ...this.memory.consumeEntries(entries), source: 'memory' }
    }
  }

  /**
   * Gives back one unit on each charge, in the store that took it (`source` of the decision). Used
   * for limits that count only failures: the unit is taken up front, so concurrent attempts cannot
   * all slip past the check, and returned once the attempt turns out to have succeeded.
   */
  async refund(charges: RateCharge[], source: MultiRateDecision['source']): Promise<void> {
    if (charges.length === 0) return
    const entries = entriesOf(charges)
    if (source === 'memory') return this.memory.refund(entries)
    try {
      await this.evalScript(
        REFUND_SHA,
        REFUND_LUA,
        entries.map((e) => e.key),
        entries.map((e) => String(e.interval)),
      )
    } catch (error) {
      this.redisFailed(error) // the unit stays taken: fails closed for one interval at most
    }
  }

  /**
   * Takes up to `want` units of one key at once (a quota lease, quota-lease.ts). When Redis fails,
   * the in-process store decides one unit at a time, as `consumeAll` does.
   */
  async take(policy: RatePolicy, key: string, want: number): Promise<LeaseGrant & { source: 'redis' | 'memory' }> {
    const [entry] = entriesOf([{ policy, key }])
    const single = () => {
      const step = this.memory.consumeEntries([entry!])
      const state = step.states[0]!
      return { granted: step.allowed ? 1 : 0, retryAfterMs: step.retryAfterMs, ...state, source: 'memory' as const }
    }
    if (Date.now() < this.redisSkipUntil) return single()
    try {
      const reply = (await this.evalScript(TAKE_SHA, TAKE_LUA, [entry!.key], [entry!.interval, entry!.tolerance, want].map(String))).map(
        Number,
      )
      return { granted: reply[0]!, retryAfterMs: reply[1]!, remaining: reply[2]!, resetMs: reply[3]!, source: 'redis' }
    } catch (error) {
      this.redisFailed(error)
      return single()
    }
  }

  /** Gives back unspent leased units (best effort: units not returned age out with the key). */
  async giveBack(returns: { policy: RatePolicy; key: string; units: number }[]): Promise<void> {
    if (returns.length === 0) return
    const entries = entriesOf(returns)
    try {
      await this.evalScript(
        REFUND_SHA,
        REFUND_LUA,
        entries.map((e) => e.key),
        entries.map((e, i) => String(e.interval * returns[i]!.units)),
      )
    } catch (error) {
      this.redisFailed(error)
    }
  }

  private async evalScript(sha: string, script: string, keys: string[], args: string[]): Promise<unknown[]> {
    return (await this.redis.run(async (c) => {
      try {
        return await c.evalsha(sha, keys.length, ...keys, ...args)
      } catch (error) {
        if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error
        return await c.eval(script, keys.length, ...keys, ...args)
      }
    })) as unknown[]
  }

  private redisFailed(error: unknown): void {
    this.redisSkipUntil = Date.now() + this.retryRedisAfterMs
    this.redis.warn('rate limiter falling back to the in-process store', error)
  }
}

// ---------------------------------------------------------------------------------------------
// Headers (draft-ietf-httpapi-ratelimit-headers, Structured Field lists)

const sfString = (value: string) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`

/** `RateLimit-Policy: "login";q=5;w=60` */
export const rateLimitPolicyHeader = (policy: RatePolicy) => `${sfString(policy.name)};q=${policy.limit};w=${policy.windowSeconds}`

/** `RateLimit: "login";r=0;t=42`, with `t` in whole seconds rounded up. */
export const rateLimitHeader = (policy: RatePolicy, decision: Pick<RateDecision, 'remaining' | 'resetMs'>) =>
  `${sfString(policy.name)};r=${Math.max(0, decision.remaining)};t=${Math.ceil(Math.max(0, decision.resetMs) / 1000)}`

/** Several policies on one request: both headers are Structured Field lists, one item per policy. */
export const rateLimitHeaders = (policies: RatePolicy[], states: Pick<RateDecision, 'remaining' | 'resetMs'>[]) => ({
  'ratelimit-policy': policies.map(rateLimitPolicyHeader).join(', '),
  ratelimit: policies.map((p, i) => rateLimitHeader(p, states[i]!)).join(', '),
})

/** Whole seconds, rounded up and at least 1, as `Retry-After` delay-seconds. */
export const retryAfterSeconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)))

/** The 429 problem of a refused request, with `Retry-After` and the RateLimit headers. */
export const quotaExceededProblem = (detail: string, headers: Record<string, string>, retryAfterMs: number) =>
  new ProblemError(429, 'Too Many Requests', detail, {
    type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
    headers: { ...headers, 'retry-after': retryAfterSeconds(retryAfterMs) },
  })

// ---------------------------------------------------------------------------------------------
// Client identity

/**
 * The client IP: the socket's peer address, or, when `trustProxy` = n > 0 reverse proxies sit in
 * front, the n-th X-Forwarded-For entry from the right (the one the outermost trusted proxy saw).
 * Undefined when neither is known (in-process calls without a socket).
 */
export function clientIp(
  request: Request,
  server: Pick<Server<unknown>, 'requestIP'> | null | undefined,
  trustProxy: number,
): string | undefined {
  if (trustProxy > 0) {
    const hops = (request.headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    if (hops.length > 0) return hops[Math.max(0, hops.length - trustProxy)]
  }
  return server?.requestIP(request)?.address ?? undefined
}

/** Account identifiers are hashed before they become Redis keys: no emails or tokens in Redis. */
export const accountKey = (account: string) => `acct:${createHash('sha256').update(account).digest('base64url').slice(0, 32)}`

// ---------------------------------------------------------------------------------------------
// Elysia plugin

type LimitContext = {
  request: Request
  server: Server<unknown> | null
  body: unknown
  set: { headers: Record<string, unknown> }
  /** Present on routes that also use the auth guard, whose resolve runs first. */
  user?: { id: string }
}
export type RouteRateLimit = RatePolicy & {
  /** The account this request acts on (email, refresh-token family…), limited next to the IP. */
  account?: (ctx: { body: unknown; request: Request; user?: { id: string } }) => string | undefined
  /**
   * Check the limit before the body is read (body-guard.ts), after the auth check. Only for limits
   * whose `account` does not need the body (it is undefined then), e.g. per signed-in user.
   */
  beforeBody?: boolean
}

/**
 * `.use(rateLimit({ limiter, trustProxy }))` adds the `rateLimit` route option:
 * `{ rateLimit: { name: 'login', limit: 5, windowSeconds: 60, account: ({ body }) => body.email } }`.
 * It runs before the handler (after body parsing, or before it with `beforeBody: true`; before any password hashing), sets
 * `RateLimit-Policy` / `RateLimit` on every answer and throws a 429 problem with `Retry-After`.
 */
export const rateLimit = (options: { limiter: RateLimiter; trustProxy: number }) =>
  new Elysia().macro({
    rateLimit: (route: RouteRateLimit) => {
      /** Requests already counted before their body was read; beforeHandle must not count them twice. */
      const countedBeforeBody = new WeakSet<Request>()
      const enforce = async ({ request, server, body, set, user }: LimitContext) => {
        const keys: string[] = []
        const ip = clientIp(request, server, options.trustProxy)
        if (ip) keys.push(`ip:${ip}`)
        const account = route.account?.({ body, request, ...(user ? { user } : {}) })
        if (account) keys.push(accountKey(account))
        if (keys.length === 0) return
        const decision = await options.limiter.consume(route, keys)
        const headers = {
          'ratelimit-policy': rateLimitPolicyHeader(route),
          ratelimit: rateLimitHeader(route, decision),
        }
        Object.assign(set.headers, headers)
        if (!decision.allowed) {
          throw quotaExceededProblem(
            `the ${route.name} limit is ${route.limit} requests per ${route.windowSeconds} s`,
            headers,
            decision.retryAfterMs,
          )
        }
      }
      // Destructured right here: Elysia infers from this code which context fields (server, body) to provide.
      const beforeHandle = async (ctx: unknown) => {
        const { request, server, body, set, user } = ctx as LimitContext
        if (!countedBeforeBody.has(request)) await enforce({ request, server, body, set, ...(user ? { user } : {}) })
      }
      // A vendor extension on the operation: the OpenAPI document (openapi/document.ts) lists its 429.
      const detail = { 'x-rate-limit': route.name } as DocumentDecoration
      if (!route.beforeBody) return { beforeHandle, detail }
      return {
        detail,
        beforeHandle: withPreBodyCheck(beforeHandle, async (ctx) => {
          countedBeforeBody.add(ctx.request)
          const user = ctx.user as { id: string } | undefined
          await enforce({ request: ctx.request, server: ctx.server, set: ctx.set, body: undefined, ...(user ? { user } : {}) })
        }),
      }
    },
  })
