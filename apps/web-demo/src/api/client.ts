import { treaty } from '@elysiajs/eden'
import type { App } from '@vstep/api'

/**
 * The typed link to the API. `App` is a type-only import of the API's Elysia app, so every path,
 * body, response and error below is checked by tsc against the server's own route definitions;
 * nothing of the API's code ends up in the browser bundle.
 *
 * `parseDate: false` keeps ISO timestamps as strings, as the contract types say (Eden would
 * otherwise revive them into Date objects at runtime while the types still claim `string`).
 *
 * `credentials: 'include'` makes the browser store and send the API's httpOnly refresh cookie
 * (`vstep_refresh`, Path=/v1/auth) although the API lives on another origin (another port). A
 * per-call `fetch: { signal }` is merged over it, so the SSE stream keeps the credentials too.
 */
export function createClient(apiUrl: string, getToken: () => string | null, extra: ClientExtras = {}) {
  return treaty<App>(apiUrl, {
    ...extra,
    parseDate: false,
    fetch: { credentials: 'include' },
    headers(): Record<string, string> {
      const token = getToken()
      return token ? { authorization: `Bearer ${token}` } : {}
    },
  })
}

export type Client = ReturnType<typeof createClient>

/**
 * Per-purpose additions to a client: `fetcher` (the upload's XMLHttpRequest, for progress) and
 * `onResponse` (reading a recording as a Blob: Eden would read an audio body as text).
 */
export type ClientExtras = {
  fetcher?: typeof fetch
  onResponse?: (response: Response) => unknown
}
