import { Elysia } from 'elysia'
import { tokenSettings } from '../auth/guard'
import { verifiedTokens } from '../auth/verified-tokens'
import type { AppDeps } from '../deps'
import { clientIp, quotaExceededProblem, rateLimitHeaders, RateLimiter, type RatePolicy } from './rate-limit'

/**
 * The general read limit: every GET / HEAD under /v1 counts against its caller, before routing,
 * validation or any cache or database work. Anonymous callers are counted per IP
 * (RATE_LIMIT_READ_ANONYMOUS, default 30 per minute); signed-in callers per user, by role
 * (RATE_LIMIT_READ_LEARNER 100, RATE_LIMIT_READ_STAFF 500 for instructors and admins). The token
 * is only verified here (signature, issuer, audience, lifetime), without the database: a revoked
 * token still counts against its own user, and the route's guard refuses it anyway. A token that
 * does not verify counts as anonymous. Over the limit: 429 problem+json with Retry-After and the
 * RateLimit headers. Health, readiness, metrics and the OpenAPI document are not counted.
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

export const readLimit = (deps: AppDeps) => {
  const limiter = new RateLimiter(deps.redis)
  const tokens = verifiedTokens(deps.keys, tokenSettings(deps)) // shared with the guard: one verification per token

  async function callerOf(request: Request, ip: string | undefined): Promise<ReadCaller | undefined> {
    const token = request.headers.get('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1]
    const claims = token ? await tokens.verify(token).catch(() => null) : null
    if (claims) return { kind: 'user', id: claims.sub, role: claims.role }
    // In-process calls (tests) have no address: nothing to count an anonymous caller by.
    return ip ? { kind: 'anonymous', ip } : undefined
  }

  return new Elysia({ name: 'read-limit' }).onRequest(async ({ request, server, set }) => {
    if (!isLimitedRead(request.method, request.url)) return
    const caller = await callerOf(request, clientIp(request, server, deps.config.TRUST_PROXY))
    if (!caller) return
    const { policy, key } = readPolicyFor(deps.config, caller)
    const decision = await limiter.consume(policy, [key])
    const headers = rateLimitHeaders([policy], [decision])
    Object.assign(set.headers, headers)
    if (!decision.allowed) {
      throw quotaExceededProblem(`the read limit is ${policy.limit} requests per ${policy.windowSeconds} s`, headers, decision.retryAfterMs)
    }
  })
}
