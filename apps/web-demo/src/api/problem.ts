import type { Problem } from '@vstep/contracts'

/** A problem as the page shows it: the API's problem+json, plus what the page knows about the failure. */
export type ShownProblem = Problem & {
  /** Seconds from `Retry-After` (429, 503), when the API sent one. */
  retryAfterSeconds?: number
  /** The request never reached the API (offline, DNS, CORS, connection refused). */
  network?: boolean
}

/** What an Eden call resolves to, as far as error handling needs to know. */
export type EdenFailure = { status: unknown; value: unknown }

/**
 * Turns whatever an Eden error carries into a problem+json body. Eden parses JSON bodies, so the
 * value is usually the object already; a network failure (status 503 from Eden, value an Error)
 * or a non-JSON body gets a readable stand-in. `response` (Eden's raw Response) gives Retry-After.
 */
export function asProblem(error: EdenFailure, response?: Response | null): ShownProblem {
  let value = error.value
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch {
      // plain text body: shown as the detail below
    }
  }
  const retryAfter = retryAfterSeconds(response?.headers.get('retry-after') ?? null)
  const extra = retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }
  if (value && typeof value === 'object' && 'title' in value && 'status' in value) return { ...(value as Problem), ...extra }
  const status = typeof error.status === 'number' ? error.status : 0
  if (value instanceof Error) {
    const offline = typeof navigator !== 'undefined' && navigator.onLine === false
    return {
      type: 'about:blank',
      title: offline ? 'You are offline' : 'Network error',
      status,
      detail: offline ? 'Check your connection; nothing was sent.' : `The API could not be reached (${value.message}).`,
      network: true,
    }
  }
  return {
    type: 'about:blank',
    title: `Request failed (${status || 'no status'})`,
    status,
    detail: typeof value === 'string' ? value : undefined,
    ...extra,
  }
}

/** `Retry-After` as delay-seconds (the API sends those) or an HTTP date; undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined
  if (/^\d+$/.test(header.trim())) return Number(header.trim())
  const at = Date.parse(header)
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined
}

/** One sentence for a problem, used by alerts and status lines. */
export function describeProblem(p: ShownProblem): string {
  if (p.status === 429) return `Too many requests. Try again in ${p.retryAfterSeconds ?? 'a few'} seconds.`
  if (p.status === 503 && !p.network)
    return `The service is busy. ${p.retryAfterSeconds ? `Try again in ${p.retryAfterSeconds} seconds.` : 'Please try again shortly.'}`
  return p.detail ? `${p.title}: ${p.detail}` : p.title
}
