import { allowedOrigins, type Config } from '../config'
import { ProblemError } from '../platform/problem'

/**
 * Web clients keep the refresh token in an httpOnly cookie the page's scripts cannot read:
 * `HttpOnly; SameSite=Strict; Path=/v1/auth` (sent only to the auth routes), `Secure` unless the
 * API is reached on localhost (plain-http development). Mobile clients get and send it in JSON.
 */
export const REFRESH_COOKIE = 'vstep_refresh'
export const REFRESH_COOKIE_PATH = '/v1/auth'

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])
const isLocal = (request: Request) => {
  const host = new URL(request.url).hostname
  return LOCAL_HOSTS.has(host) || host.endsWith('.localhost')
}

export function refreshCookie(request: Request, token: string, maxAgeSeconds: number): string {
  const parts = [`${REFRESH_COOKIE}=${token}`, `Path=${REFRESH_COOKIE_PATH}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict']
  if (!isLocal(request)) parts.push('Secure')
  return parts.join('; ')
}

export function clearedRefreshCookie(request: Request): string {
  return refreshCookie(request, '', 0)
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
export function assertTrustedOrigin(config: Config, request: Request): void {
  const origin = request.headers.get('origin')
  const allowed = allowedOrigins(config)
  allowed.add(new URL(request.url).origin)
  if (!origin || !allowed.has(origin)) {
    throw new ProblemError(403, 'Forbidden', 'cookie-authenticated requests must come from an allowed Origin')
  }
}
