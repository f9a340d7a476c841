import type { Problem } from '@vstep/contracts'

/**
 * Turns whatever an Eden error carries into a problem+json body. Eden parses JSON bodies, so the
 * value is usually the object already; a network failure (status 503 from Eden, value an Error)
 * or a non-JSON body gets a readable stand-in.
 */
export function asProblem(error: { status: unknown; value: unknown }): Problem {
  let value = error.value
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch {
      // plain text body: shown as the detail below
    }
  }
  if (value && typeof value === 'object' && 'title' in value && 'status' in value) return value as Problem
  const status = typeof error.status === 'number' ? error.status : 0
  if (value instanceof Error) {
    return { type: 'about:blank', title: 'Network error', status, detail: `The API could not be reached (${value.message}).` }
  }
  return { type: 'about:blank', title: `Request failed (${status || 'no status'})`, status, detail: typeof value === 'string' ? value : undefined }
}
