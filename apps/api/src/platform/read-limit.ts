import { Elysia } from 'elysia'
import { tokenSettings } from '../auth/guard'
import { verifiedTokens } from '../auth/verified-tokens'
import type { AppDeps } from '../deps'
import { LEASE_HOLD_MS, type LeaseGrant, type LeaseReturn, QuotaLeases } from './quota-lease'
import {
  clientIp,
  quotaExceededProblem,
  type RateDecision,
  RateLimiter,
  type RatePolicy,
  rateLimitHeader,
  rateLimitHeaders,
  rateLimitPolicyHeader,
} from './rate-limit'

/**
 * The general read limit: every GET / HEAD under /v1 counts against its caller, before routing,
 * validation or any cache or database work. Anonymous callers are counted per IP
 * (RATE_LIMIT_READ_ANONYMOUS, default 30 per minute); signed-in callers per user, by role
 * (RATE_LIMIT_READ_LEARNER 100, RATE_LIMIT_READ_STAFF 500 for instructors and admins). The token
 * is only verified here (signature, issuer, audience, lifetime), without the database: a revoked
 * token still counts against its own user, and the route's guard refuses it anyway. A token that
 * does not verify counts as anonymous. Over the limit: 429 problem+json with Retry-After and the
 * RateLimit headers. Health, readiness, metrics and the OpenAPI document are not counted.
 * The count is kept in Redis (shared by every instance) but taken in small leases (`ReadQuota`,
 * quota-lease.ts), so a busy caller costs one Redis call per batch of reads, not per read.
 */
export type ReadCaller = { kind: 'anonymous'; ip: string } | { kind: 'user'; id: string; role: string }

const isRead = (method: string) => method === 'GET' || method === 'HEAD'
const pathOf = (url: string) => {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  const end = url.indexOf('?', start)
  return start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end)
}
/** Only the API's resources; operational endpoints have their own protection (docs/operations.md). */
export const isLimitedRead = (method: string, url: string): boolean => isRead(method) && pathOf(url).startsWith('/v1/')

/** The policy and key of one caller. */
export function readPolicyFor(
  config: Pick<
    AppDeps['config'],
    'RATE_LIMIT_READ_ANONYMOUS' | 'RATE_LIMIT_READ_LEARNER' | 'RATE_LIMIT_READ_STAFF' | 'RATE_LIMIT_WINDOW_SECONDS'
  >,
  caller: ReadCaller,
): { policy: RatePolicy; key: string } {
  const windowSeconds = config.RATE_LIMIT_WINDOW_SECONDS
  if (caller.kind === 'anonymous')
    return { policy: { name: 'read-anonymous', limit: config.RATE_LIMIT_READ_ANONYMOUS, windowSeconds }, key: `ip:${caller.ip}` }
  const staff = caller.role === 'instructor' || caller.role === 'admin'
  return {
    policy: staff
      ? { name: 'read-staff', limit: config.RATE_LIMIT_READ_STAFF, windowSeconds }
      : { name: 'read-learner', limit: config.RATE_LIMIT_READ_LEARNER, windowSeconds },
    key: `user:${caller.id}`,
  }
}

/**
 * Counts one read of `key` under `policy` from this instance's lease of the caller's quota
 * (quota-lease.ts), asking Redis only when the lease is spent or over: one round trip per batch of
 * reads instead of one per read. Concurrent reads of a key with no units share one Redis call.
 */
export class ReadQuota {
  private readonly leases: QuotaLeases
  private readonly pending = new Map<string, Promise<LeaseGrant>>()
  private readonly policies = new Map<string, RatePolicy>()
  private readonly timer: ReturnType<typeof setInterval>

  constructor(
    private readonly limiter: RateLimiter,
    clock: () => number = Date.now,
  ) {
    this.leases = new QuotaLeases(clock)
    // Unspent units go back to Redis about once per hold time; the timer never keeps the process up.
    this.timer = setInterval(() => void this.returnExpired(), LEASE_HOLD_MS)
    this.timer.unref?.()
  }

  /** One read counted from the live lease without waiting, or undefined when Redis must be asked (`consume`). */
  spendNow(policy: RatePolicy, key: string): RateDecision | undefined {
    const spent = this.leases.spend(`${policy.name}:${key}`)
    return spent ? { allowed: true, retryAfterMs: 0, ...spent, source: 'redis' } : undefined
  }

  async consume(policy: RatePolicy, key: string): Promise<RateDecision> {
    const id = `${policy.name}:${key}`
    for (;;) {
      const spent = this.leases.spend(id)
      if (spent) return { allowed: true, retryAfterMs: 0, ...spent, source: 'redis' }
      let grant = this.pending.get(id)
      if (!grant) {
        grant = this.fetch(policy, key, id).finally(() => this.pending.delete(id))
        this.pending.set(id, grant)
      }
      const got = await grant
      if (got.granted === 0) return { allowed: false, remaining: 0, retryAfterMs: got.retryAfterMs, resetMs: got.resetMs, source: 'redis' }
      // Granted: spend from the new lease (the loop), or ask again if concurrent reads took it all.
    }
  }

  private async fetch(policy: RatePolicy, key: string, id: string): Promise<LeaseGrant> {
    const grant = await this.limiter.take(policy, key, this.leases.wanted(id, policy.limit))
    this.policies.set(id, policy)
    const back = this.leases.store(id, grant)
    if (back) void this.giveBack([back])
    return grant
  }

  /** Gives back what expired leases did not spend. */
  async returnExpired(): Promise<void> {
    const returns = this.leases.expire()
    await this.giveBack(returns)
    // Keys whose lease was forgotten (idle, or evicted) need no policy any more.
    for (const id of this.policies.keys()) if (!this.leases.has(id) && !this.pending.has(id)) this.policies.delete(id)
  }

  private async giveBack(returns: LeaseReturn[]): Promise<void> {
    const charges = returns.flatMap(({ key: id, units }) => {
      const policy = this.policies.get(id)
      return policy ? [{ policy, key: id.slice(policy.name.length + 1), units }] : []
    })
    await this.limiter.giveBack(charges)
  }

  stop(): void {
    clearInterval(this.timer)
  }
}

export const readLimit = (deps: AppDeps) => {
  const quota = new ReadQuota(new RateLimiter(deps.redis))
  const tokens = verifiedTokens(deps.keys, tokenSettings(deps)) // shared with the guard: one verification per token

  /**
   * The caller, without waiting when the token (if any) was verified before: a signed-in caller by
   * the token's claims, else anonymous by address. Undefined when the token must be verified first.
   */
  function callerNow(token: string | undefined, ipOf: () => string | undefined): ReadCaller | null | undefined {
    const claims = token ? tokens.peek(token) : null
    if (claims === undefined) return undefined
    if (claims) return { kind: 'user', id: claims.sub, role: claims.role }
    // In-process calls (tests) have no address: nothing to count an anonymous caller by.
    const ip = ipOf()
    return ip ? { kind: 'anonymous', ip } : null
  }

  async function callerAfterVerifying(token: string, ipOf: () => string | undefined): Promise<ReadCaller | null> {
    const claims = await tokens.verify(token).catch(() => null)
    if (claims) return { kind: 'user', id: claims.sub, role: claims.role }
    const ip = ipOf()
    return ip ? { kind: 'anonymous', ip } : null
  }

  // A read whose caller and lease are known here waits on nothing: no `await` runs, so the
  // response is ready in the same turn of the event loop (each await costs ≈ 10 % of a cached read).
  return new Elysia({ name: 'read-limit' })
    .onStop(() => quota.stop()) // its timer gives unspent units back; nothing to give back to once stopped
    .onRequest(async ({ request, server, set }) => {
      if (!isLimitedRead(request.method, request.url)) return
      const authorization = request.headers.get('authorization')
      const token = authorization ? BEARER.exec(authorization)?.[1] : undefined
      const ipOf = () => clientIp(request, server, deps.config.TRUST_PROXY)
      const known = callerNow(token, ipOf)
      const caller = known === undefined ? await callerAfterVerifying(token!, ipOf) : known
      if (!caller) return
      const { policy, key } = readPolicyFor(deps.config, caller)
      const decision = quota.spendNow(policy, key) ?? (await quota.consume(policy, key))
      set.headers['ratelimit-policy'] = policyHeaderOf(policy)
      set.headers.ratelimit = rateLimitHeader(policy, decision)
      if (!decision.allowed) {
        const headers = rateLimitHeaders([policy], [decision])
        throw quotaExceededProblem(
          `the read limit is ${policy.limit} requests per ${policy.windowSeconds} s`,
          headers,
          decision.retryAfterMs,
        )
      }
    })
}

const BEARER = /^Bearer\s+(\S+)$/i
/** `RateLimit-Policy` is the same for every read under one policy: built once per policy. */
const policyHeaders = new Map<string, string>()
const policyHeaderOf = (policy: RatePolicy) => {
  const id = `${policy.name};${policy.limit};${policy.windowSeconds}`
  let header = policyHeaders.get(id)
  if (header === undefined) policyHeaders.set(id, (header = rateLimitPolicyHeader(policy)))
  return header
}
