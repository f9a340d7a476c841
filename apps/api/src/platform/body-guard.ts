import { Elysia } from 'elysia'
import type { Server } from 'bun'
import { ProblemError } from './problem'

/**
 * The body gate: the ONE parser of request bodies (security finding 1 in docs/security.md).
 *
 * Elysia's own parsers read any body whole (up to Bun's `maxRequestBodySize`) and hand it to
 * `JSON.parse`; a schema failure then builds a ValidationError whose constructor JSON.stringify-s the
 * whole value with indentation (elysia 1.4 dist/error.mjs), so 80 KB of `[[[…]]]` cost seconds of
 * event loop and hundreds of MB. This gate, a global parse hook, runs before Elysia's parsers and:
 *   1. runs the route's pre-body checks first (authentication, role), so an anonymous caller of a
 *      guarded route gets 401 before a byte of the body is read or any schema is looked at;
 *   2. refuses a declared Content-Length over the route's limit (413) without reading, and stops
 *      reading a chunked body as soon as it passes the limit (413);
 *   3. accepts only JSON (415 otherwise, unless the route's policy allows another media type);
 *   4. refuses JSON nested deeper than MAX_JSON_DEPTH (400) by scanning the text, before JSON.parse.
 * What reaches JSON.parse and the schemas is therefore small and shallow, so validation errors are cheap.
 */

/** Deepest array/object nesting accepted; our schemas need 3. */
export const MAX_JSON_DEPTH = 32

export type BodyPolicy = {
  /** Largest body accepted, in bytes. */
  maxBytes: number
  /** Media types (without parameters) accepted besides JSON, each with the route's own parser. */
  otherMediaTypes: Readonly<Record<string, (request: Request) => Promise<unknown>>>
  /**
   * Largest body of those other media types (default maxBytes), so an upload route can take large
   * files while its JSON bodies keep the small limit. Their parser must count a chunked body itself.
   */
  otherMaxBytes?: number
}

/** What the gate answers for a request without a body; a transform hook turns it back into `undefined`. */
const NO_BODY = Symbol('no body')

/**
 * A check that must pass before a route's body is read. Attach it to a route hook with
 * `withPreBodyCheck`. The route's checks run in hook order; what one returns (e.g. `{ user }`) is
 * passed to the next ones.
 */
export type PreBodyContext = { request: Request; server: Server<unknown> | null; set: { headers: Record<string, unknown> } } & Record<
  string,
  unknown
>
export type PreBodyCheck = (ctx: PreBodyContext) => Promise<object | void> | object | void

const PRE_BODY_CHECK = Symbol('preBodyCheck')

/** Marks a route hook function (e.g. the auth macro's resolve) so the gate also runs `check` before parsing. */
export function withPreBodyCheck<F extends object>(hook: F, check: PreBodyCheck): F {
  return Object.assign(hook, { [PRE_BODY_CHECK]: check })
}

const preBodyCheckOf = (hook: unknown): PreBodyCheck | undefined => {
  const fn = hook && typeof hook === 'object' && 'fn' in hook ? (hook as { fn: unknown }).fn : hook
  return typeof fn === 'function' && PRE_BODY_CHECK in fn ? (fn as { [PRE_BODY_CHECK]: PreBodyCheck })[PRE_BODY_CHECK] : undefined
}

export const payloadTooLarge = (maxBytes: number) =>
  new ProblemError(413, 'Content Too Large', `the request body is larger than ${maxBytes} bytes`)
const unsupportedMediaType = () =>
  new ProblemError(415, 'Unsupported Media Type', 'request bodies must be JSON (content-type: application/json)', {
    headers: { 'accept-post': 'application/json' },
  })
const badJson = (detail: string) => new ProblemError(400, 'Bad Request', detail)

// ---------------------------------------------------------------------------------------------
// Pure helpers

/**
 * True when `text`, read as JSON, opens more than `maxDepth` nested arrays/objects. A linear scan
 * that skips string contents (and their escapes); it does not validate the JSON, JSON.parse does.
 */
export function jsonNestingExceeds(text: string, maxDepth: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c /* \ */) i++
      else if (c === 0x22 /* " */) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return true
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--
  }
  return false
}

/** The media type of a Content-Type header, lower-cased, without parameters ('' when absent). */
export const mediaTypeOf = (contentType: string | null | undefined) => (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase()

const isJsonMediaType = (type: string) => type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))

/**
 * Reads the body as UTF-8 text, never holding more than `maxBytes`: a larger Content-Length is
 * refused before reading, a chunked body is cut off (and its stream cancelled) once it passes the limit.
 */
export async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBytes) throw payloadTooLarge(maxBytes)
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => {})
      throw payloadTooLarge(maxBytes)
    }
    chunks.push(value)
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))
  } catch {
    throw badJson('the request body is not valid UTF-8')
  }
}

/** JSON.parse behind the nesting guard; every failure is a 400 that does not echo the input. */
export function parseGuardedJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonNestingExceeds(text, maxDepth)) throw badJson(`the JSON body is nested deeper than ${maxDepth} levels`)
  try {
    return JSON.parse(text)
  } catch {
    throw badJson('the request body is not valid JSON')
  }
}

// ---------------------------------------------------------------------------------------------
// The Elysia plugin

type RouteLike = { method: string; path: string; hooks: unknown }
type GateContext = { request: Request; route: string; server: Server<unknown> | null; set: PreBodyContext['set'] }
type RoutePlan = { checks: PreBodyCheck[]; policy: BodyPolicy }

/**
 * `const gate = bodyGate({ jsonLimitBytes })`; `.use(gate.plugin)` before the routes, then
 * `gate.bind(app)` once the app has all its routes (the gate reads each route's pre-body checks
 * from its hooks, lazily, on the route's first request).
 */
export function bodyGate(options: {
  jsonLimitBytes: number
  /**
   * Routes whose body is not (only) a small JSON document, keyed `METHOD /route/pattern`: their own
   * limit and media types, e.g. the audio upload on `POST /v1/submissions` (createApp). The
   * Content-Length is checked before their parser runs; MAX_REQUEST_BODY_BYTES must cover them.
   */
  policies?: Readonly<Record<string, Partial<BodyPolicy>>>
}) {
  const policies = options.policies ?? {}
  let routes: () => readonly RouteLike[] = () => []
  const plans = new Map<string, RoutePlan>()

  const planOf = (method: string, route: string): RoutePlan => {
    const key = `${method} ${route}`
    let plan = plans.get(key)
    if (!plan) {
      const hooks = routes().find((r) => r.method === method && r.path === route)?.hooks as { beforeHandle?: unknown[] } | undefined
      const checks = (hooks?.beforeHandle ?? []).map(preBodyCheckOf).filter((c): c is PreBodyCheck => c !== undefined)
      plan = { checks, policy: { maxBytes: options.jsonLimitBytes, otherMediaTypes: {}, ...policies[key] } }
      plans.set(key, plan)
    }
    return plan
  }

  const gate = async ({ request, route, server, set }: GateContext): Promise<unknown> => {
    const plan = planOf(request.method, route)
    let facts: Record<string, unknown> = {}
    for (const check of plan.checks) facts = { ...facts, ...(await check({ ...facts, request, server, set })) }
    const declared = request.headers.get('content-length')
    if (!request.body || declared === '0') return NO_BODY
    const type = mediaTypeOf(request.headers.get('content-type'))
    if (!isJsonMediaType(type)) {
      const parseOther = plan.policy.otherMediaTypes[type]
      if (!parseOther) throw unsupportedMediaType()
      const limit = plan.policy.otherMaxBytes ?? plan.policy.maxBytes
      if (declared !== null && Number(declared) > limit) throw payloadTooLarge(limit)
      return parseOther(request)
    }
    const text = await readBoundedText(request, plan.policy.maxBytes)
    return text.trim() === '' ? NO_BODY : parseGuardedJson(text)
  }

  const plugin = new Elysia({ name: 'body-gate' })
    // The gate always answers (a value, NO_BODY, or a thrown problem), so Elysia's own parsers never
    // run. The trailing 'json' is never reached; it only makes the OpenAPI document say that request
    // bodies are application/json (the openapi plugin lists the named parsers of a route).
    .onParse({ as: 'global' }, [({ request, route, server, set }: GateContext) => gate({ request, route, server, set }), 'json'] as never)
    // A request without a body has an undefined body, as with Elysia's parsers.
    .onTransform({ as: 'global' }, (ctx) => {
      if ((ctx as { body: unknown }).body === NO_BODY) (ctx as { body: unknown }).body = undefined
    })

  return {
    plugin,
    bind(app: { routes: readonly RouteLike[] }) {
      routes = () => app.routes
      plans.clear()
    },
  }
}
