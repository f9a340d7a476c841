import { createHash } from 'node:crypto'
import { Elysia } from 'elysia'
import type { Server } from 'bun'
import { ProblemError } from './problem'
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

/**
 * The pure GCRA step over several keys, mirroring the Lua script: all keys must allow, and only then
 * are all TATs advanced. `tats[i]` is the stored TAT of key i (undefined if none). Returns the
 * decision and the new TATs to store (null when denied: nothing is stored).
 */
export function gcraStep(
  tats: (number | undefined)[],
  now: number,
  interval: number,
  tolerance: number,
): { allowed: boolean; remaining: number; retryAfterMs: number; resetMs: number; newTats: number[] | null } {
  let retry = 0
  let maxNew = 0
  const newTats = tats.map((stored) => {
    const tat = stored === undefined || stored < now ? now : stored
    const next = tat + interval
    const allowAt = next - tolerance
    if (allowAt > now) retry = Math.max(retry, allowAt - now)
    maxNew = Math.max(maxNew, next)
    return next
  })
  if (retry > 0) return { allowed: false, remaining: 0, retryAfterMs: retry, resetMs: retry, newTats: null }
  return { allowed: true, remaining: Math.floor((now + tolerance - maxNew) / interval), retryAfterMs: 0, resetMs: maxNew - now, newTats }
}

export const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local retry = 0
local maxnew = 0
local news = {}
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if not tat or tat < now then tat = now end
  local nxt = tat + interval
  local allow_at = nxt - tolerance
  if allow_at > now and allow_at - now > retry then retry = allow_at - now end
  if nxt > maxnew then maxnew = nxt end
  news[i] = nxt
end
if retry > 0 then return {0, 0, retry, retry} end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%d', news[i]), 'PX', string.format('%d', news[i] - now))
end
return {1, math.floor((now + tolerance - maxnew) / interval), 0, maxnew - now}
`
const GCRA_SHA = createHash('sha1').update(GCRA_LUA).digest('hex')

/** The per-process fallback store: same algorithm, bounded number of keys. */
export class MemoryRateStore {
  private readonly tats = new Map<string, number>()
  constructor(
    private readonly maxKeys = 50_000,
    private readonly clock: () => number = Date.now,
  ) {}

  consume(keys: string[], interval: number, tolerance: number): Omit<RateDecision, 'source'> {
    const now = this.clock()
    const step = gcraStep(
      keys.map((k) => this.tats.get(k)),
      now,
      interval,
      tolerance,
    )
    if (step.newTats) {
      step.newTats.forEach((tat, i) => {
        const key = keys[i]!
        this.tats.delete(key) // re-insert so Map order tracks recency
        this.tats.set(key, tat)
      })
      if (this.tats.size > this.maxKeys) this.prune(now)
    }
    const { newTats: _ignored, ...decision } = step
    return decision
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

  async consume(policy: RatePolicy, keys: string[]): Promise<RateDecision> {
    const { interval, tolerance } = gcraParameters(policy)
    const redisKeys = keys.map((k) => `rl:${policy.name}:${k}`)
    if (Date.now() < this.redisSkipUntil) return { ...this.memory.consume(redisKeys, interval, tolerance), source: 'memory' }
    try {
      const reply = (await this.redis.run(async (c) => {
        const args = [String(interval), String(tolerance)]
        try {
          return await c.evalsha(GCRA_SHA, redisKeys.length, ...redisKeys, ...args)
        } catch (error) {
          if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error
          return await c.eval(GCRA_LUA, redisKeys.length, ...redisKeys, ...args)
        }
      })) as number[]
      const [allowed, remaining, retry, reset] = reply.map(Number)
      return { allowed: allowed === 1, remaining: remaining!, retryAfterMs: retry!, resetMs: reset!, source: 'redis' }
    } catch (error) {
      this.redisSkipUntil = Date.now() + this.retryRedisAfterMs
      this.redis.warn('rate limiter falling back to the in-process store', error)
      return { ...this.memory.consume(redisKeys, interval, tolerance), source: 'memory' }
    }
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

/** Whole seconds, rounded up and at least 1, as `Retry-After` delay-seconds. */
export const retryAfterSeconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)))

// ---------------------------------------------------------------------------------------------
// Client identity

/**
 * The client IP: the socket's peer address, or, when `trustProxy` = n > 0 reverse proxies sit in
 * front, the n-th X-Forwarded-For entry from the right (the one the outermost trusted proxy saw).
 * Undefined when neither is known (in-process calls without a socket).
 */
export function clientIp(request: Request, server: Pick<Server<unknown>, 'requestIP'> | null | undefined, trustProxy: number): string | undefined {
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
}

/**
 * `.use(rateLimit({ limiter, trustProxy }))` adds the `rateLimit` route option:
 * `{ rateLimit: { name: 'login', limit: 5, windowSeconds: 60, account: ({ body }) => body.email } }`.
 * It runs before the handler (after body parsing, before any password hashing), sets
 * `RateLimit-Policy` / `RateLimit` on every answer and throws a 429 problem with `Retry-After`.
 */
export const rateLimit = (options: { limiter: RateLimiter; trustProxy: number }) =>
  new Elysia().macro({
    rateLimit: (route: RouteRateLimit) => ({
      async beforeHandle(ctx) {
        const { request, server, body, set, user } = ctx as unknown as LimitContext
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
          throw new ProblemError(429, 'Too Many Requests', `the ${route.name} limit is ${route.limit} requests per ${route.windowSeconds} s`, {
            type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
            headers: { ...headers, 'retry-after': retryAfterSeconds(decision.retryAfterMs) },
          })
        }
      },
    }),
  })
