import { timingSafeEqual } from 'node:crypto'
import type { Config } from '../config'

/**
 * Who may read operational details (/metrics, /readyz checks): a caller presenting METRICS_TOKEN as
 * `Authorization: Bearer <token>`. Without a configured token, /metrics is open outside production
 * (dev and tests scrape it freely) and closed in production.
 */
export type MetricsAccess = 'granted' | 'denied' | 'disabled'

const bearerOf = (authorization: string | null): string | undefined => authorization?.match(/^Bearer\s+(\S+)$/i)?.[1]

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false
  const a = Buffer.from(presented)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

export function metricsAccess(config: Pick<Config, 'METRICS_TOKEN' | 'NODE_ENV'>, authorization: string | null): MetricsAccess {
  if (config.METRICS_TOKEN) return tokenMatches(bearerOf(authorization), config.METRICS_TOKEN) ? 'granted' : 'denied'
  return config.NODE_ENV === 'production' ? 'disabled' : 'granted'
}

/** True when the request carries the configured metrics token (never true without one). */
export const hasMetricsToken = (config: Pick<Config, 'METRICS_TOKEN'>, authorization: string | null): boolean =>
  Boolean(config.METRICS_TOKEN) && tokenMatches(bearerOf(authorization), config.METRICS_TOKEN!)

/**
 * The status the client really got. A handler that returns a Response (a 304, a problem) carries
 * its own status while `set.status` still says 200; otherwise `set.status` (the problem handler
 * writes the status of every error answer there). Named statuses are not used by this app.
 */
export function statusSent(responseValue: unknown, setStatus: unknown): number {
  if (responseValue instanceof Response) return responseValue.status
  if (typeof setStatus === 'number') return setStatus
  return 200
}
