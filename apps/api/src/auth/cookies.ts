import { allowedOrigins, cookieSecure, type Config } from '../config'
import { ProblemError } from '../platform/problem'

/**
 * Web clients keep the refresh token in an httpOnly cookie the page's scripts cannot read:
 * `HttpOnly; SameSite=Strict; Path=/v1/auth` (sent only to the auth routes), plus `Secure` when the
 * configuration says so (COOKIE_SECURE; by default in production only). Request headers (Host,
 * X-Forwarded-Proto…) never decide it: a client must not be able to talk the API out of `Secure`.
 * Mobile clients get and send the token in JSON.
 */
export const REFRESH_COOKIE = 'vstep_refresh'
export const REFRESH_COOKIE_PATH = '/v1/auth'

type CookieConfig = Pick<Config, 'COOKIE_SECURE' | 'NODE_ENV'>

export function refreshCookie(config: CookieConfig, token: string, maxAgeSeconds: number): string {
  const parts = [`${REFRESH_COOKIE}=${token}`, `Path=${REFRESH_COOKIE_PATH}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict']
  if (cookieSecure(config)) parts.push('Secure')
  return parts.join('; ')
}

export function clearedRefreshCookie(config: CookieConfig): string {
  return refreshCookie(config, '', 0)
}

export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie')
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim()
      return value || undefined
    }
  }
  return undefined
}

/**
 * Cookie-authenticated requests (refresh, logout) must come from one of our own origins: the
 * request's own origin or one listed in CORS_ORIGINS. A missing Origin is refused too. This is
 * defence in depth next to SameSite=Strict against cross-site request forgery.
 */
export function isTrustedOrigin(config: Pick<Config, 'CORS_ORIGINS'>, request: Request): boolean {
  const origin = request.headers.get('origin')
  const allowed = allowedOrigins(config)
  allowed.add(new URL(request.url).origin)
  return origin !== null && allowed.has(origin)
}

export function assertTrustedOrigin(config: Pick<Config, 'CORS_ORIGINS'>, request: Request): void {
  if (!isTrustedOrigin(config, request)) {
    throw new ProblemError(403, 'Forbidden', 'cookie-authenticated requests must come from an allowed Origin')
  }
}
