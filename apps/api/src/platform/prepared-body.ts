import { Elysia } from 'elysia'

/**
 * Bodies serialised ahead of time (the catalogue, `GET /v1/me`), sent without copying. A handler
 * that returns a `Response` has it rebuilt by Elysia: a new `Headers` merged from the context's and
 * a new `Response` streaming the old one's body (≈ 18 % of a cached read's CPU). A string or byte
 * body instead becomes `new Response(body, set)` directly. So a handler returns the `Response` made
 * once by `preparedBody` (its type satisfies the route, and Elysia does not validate a `Response`)
 * and this plugin's mapResponse hook swaps in the held body, status and headers.
 */
export type PreparedBody = { body: string | Uint8Array<ArrayBuffer> | null; status: number; headers: Record<string, string> }

const prepared = new WeakMap<Response, PreparedBody>()

/**
 * A stand-in `Response` for `body`; keep it and return it for every request that sends these bytes.
 * It has no body of its own: only an app with `preparedBodies` installed (app.ts) can send it.
 */
export function preparedBody(body: PreparedBody['body'], status: number, headers: Record<string, string>): Response {
  const stand = new Response(null, { status, headers })
  prepared.set(stand, { body, status, headers })
  return stand
}

/** Installs the swap for every route (a plain function: Elysia awaits nothing for it). */
export const preparedBodies = new Elysia({ name: 'prepared-body' }).mapResponse({ as: 'global' }, ({ responseValue, set }) => {
  const held = responseValue instanceof Response ? prepared.get(responseValue) : undefined
  if (!held) return
  set.status = held.status
  Object.assign(set.headers, held.headers)
  // Elysia's types want a Response here, but at run time it maps any value as it maps a handler's
  // (a string or bytes: `new Response(body, set)`); a Response would be rebuilt, the cost avoided.
  // A 304 has no body: the empty string.
  const body: unknown = held.body ?? ''
  return body as Response
})
