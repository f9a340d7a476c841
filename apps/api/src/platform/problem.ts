import { Elysia, ValidationError } from 'elysia'
import { isRetryableConflict, sqlStateOf } from './transaction'
import { errorFields, log } from './logger'

/** An error that becomes an RFC 9457 problem+json response. Throw it from any handler or service. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { type?: string; errors?: { field: string; message: string }[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? title)
  }
}

export const notFound = (what: string) => new ProblemError(404, 'Not Found', `${what} was not found`)
export const conflict = (detail: string) => new ProblemError(409, 'Conflict', detail)
export const unauthorized = (detail = 'a valid access token is required') =>
  new ProblemError(401, 'Unauthorized', detail, { headers: { 'www-authenticate': 'Bearer' } })
export const forbidden = (detail = 'your role does not allow this') => new ProblemError(403, 'Forbidden', detail)
export const invalidField = (field: string, message: string) =>
  new ProblemError(422, 'Unprocessable Content', `${field}: ${message}`, { errors: [{ field, message }] })

const TYPE_BASE = 'https://vstep.example/problems/'

export function problemResponse(
  status: number,
  title: string,
  detail?: string,
  extra: ProblemError['extra'] = {},
  instance?: string,
): Response {
  const body = {
    type: extra.type ?? `${TYPE_BASE}${title.toLowerCase().replaceAll(' ', '-')}`,
    title,
    status,
    ...(detail ? { detail } : {}),
    ...(instance ? { instance } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
  }
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...extra.headers },
  })
}

type PgError = { code?: string; constraint_name?: string; message?: string }
const pgErrorOf = (error: unknown): PgError | undefined => {
  const candidate = (error as { cause?: unknown })?.cause ?? error
  return candidate && typeof candidate === 'object' && 'code' in candidate ? (candidate as PgError) : undefined
}

/**
 * The database is down or restarting: connection errors from postgres.js, SQLSTATE class 08
 * (connection exception) and 57P01–57P03 (shutdown, crash, not accepting connections yet). Those
 * are a 503 the client can retry, not a 500.
 */
const UNAVAILABLE_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  '57P01',
  '57P02',
  '57P03',
])
function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true
  }
  return false
}

/** Field errors from a schema failure, without the offending values: inputs may hold passwords. */
function validationErrors(error: ValidationError): { field: string; message: string }[] {
  const where = error.type === 'body' ? '' : `${error.type}.`
  return error.all.map((issue) => {
    const path = 'path' in issue ? issue.path : ''
    const segments = Array.isArray(path)
      ? path.map((p: unknown) => (typeof p === 'object' && p && 'key' in p ? String((p as { key: unknown }).key) : String(p)))
      : String(path ?? '')
          .split('/')
          .filter(Boolean)
    return { field: `${where}${segments.join('.')}` || error.type, message: issue.summary ?? issue.message ?? 'is invalid' }
  })
}

/**
 * The problem `instance`: the matched route's pattern (`/v1/submissions/:id`), never the raw path or
 * query, so nothing the client typed is echoed. Undefined when no route matched.
 */
export const problemInstance = (route: unknown): string | undefined =>
  typeof route === 'string' && route.startsWith('/') ? route : undefined

/** The one error handler of the app: every failure leaves as problem+json, never with a stack or an input echo. */
// The context is destructured, not passed whole: Elysia infers from a hook's parameters what every
// route must prepare, and a whole context passed on makes every request parse its cookies, copy its
// headers and parse its query string (≈ 10 % of a cached read's CPU).
export const problemHandler = new Elysia({ name: 'problem-handler' }).onError({ as: 'global' }, ({ code, error, request, route, set }) => {
  const response = problemFor({ code, error, request, route })
  // Hooks that run after the response (/metrics) read set.status: make it the status really sent.
  set.status = response.status
  return response
})

function problemFor({ code, error, request, route }: { code: string | number; error: unknown; request: Request; route: string }): Response {
  const instance = problemInstance(route)
  // The body gate (body-guard.ts) throws its 401/403/413/415/400 from the parse phase, which Elysia wraps in a ParseError.
  const cause = code === 'PARSE' ? (error as { cause?: unknown }).cause : undefined
  if (cause instanceof ProblemError) return problemResponse(cause.status, cause.title, cause.detail, cause.extra, instance)
  if (error instanceof ProblemError) return problemResponse(error.status, error.title, error.detail, error.extra, instance)
  // Elysia wraps whatever fails in the parse phase in a ParseError, and that phase also runs the
  // routes' pre-body checks: authentication looks the session up in PostgreSQL on a cache miss. A
  // database error there (a restart: 57P01, ECONNREFUSED, 57P03) is not a malformed body; it is
  // answered as the same error from a handler would be (503 + Retry-After).
  if (cause !== undefined && (isDatabaseUnavailable(cause) || sqlStateOf(cause) !== undefined)) {
    return problemFor({ code: 'UNKNOWN', error: cause, request, route })
  }
  if (code === 'VALIDATION' && error instanceof ValidationError) {
    if (error.type === 'response') {
      // Field paths only: error.message embeds the whole value.
      log.error({ fields: validationErrors(error).map((e) => `${e.field}: ${e.message}`) }, 'response failed its schema')
      return problemResponse(500, 'Internal Server Error', 'the server produced an invalid response', {}, instance)
    }
    const errors = validationErrors(error)
    const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ')
    return problemResponse(422, 'Unprocessable Content', detail, { errors }, instance)
  }
  if (code === 'PARSE') return problemResponse(400, 'Bad Request', 'the request body is not valid JSON or form data', {}, instance)
  if (code === 'NOT_FOUND') return problemResponse(404, 'Not Found', 'no such route', {}, instance)
  if (code === 'INVALID_COOKIE_SIGNATURE') return problemResponse(400, 'Bad Request', 'a cookie was tampered with', {}, instance)
  if (isDatabaseUnavailable(error)) {
    return problemResponse(
      503,
      'Service Unavailable',
      'the database is unavailable; try again shortly',
      { headers: { 'retry-after': '1' } },
      instance,
    )
  }
  // A deadlock or serialization failure that outlived transactionWithRetry: a race, safe to retry.
  if (isRetryableConflict(error)) {
    return problemResponse(
      503,
      'Service Unavailable',
      'the request collided with a concurrent change; try again',
      { headers: { 'retry-after': '1' } },
      instance,
    )
  }
  const pg = pgErrorOf(error)
  if (pg?.constraint_name === 'submission_status_transition') return problemResponse(409, 'Conflict', pg.message, {}, instance)
  // SQLSTATE class 22 (data exception): a value PostgreSQL cannot store, such as a NUL character in
  // text or an out-of-range number. That is bad input, not a server fault.
  if (pg?.code?.startsWith('22')) {
    return problemResponse(
      400,
      'Bad Request',
      'a value in the request cannot be stored (for example a NUL character in text)',
      {},
      instance,
    )
  }
  if (typeof code === 'number') return problemResponse(code, 'Error', undefined, {}, instance)
  log.error({ method: request.method, route: instance ?? 'unmatched', ...errorFields(error, true) }, 'unhandled error')
  return problemResponse(500, 'Internal Server Error', 'something went wrong on our side', {}, instance)
}
