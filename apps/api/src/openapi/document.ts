import { Problem } from '@vstep/contracts'
import type { DocumentDecoration } from 'elysia'
import { z } from 'zod'

/**
 * Turns the document Elysia derives from the routes into one a client generator can rely on: no stray
 * trailing slashes, a security requirement on every operation (bearer, refresh cookie or explicitly
 * none), every error as `application/problem+json` with the Problem schema and an example, the
 * rate-limit and idempotency headers, SSE streams as `text/event-stream`, the multipart upload, and
 * `servers`. A pure function of the derived document, so the committed snapshot (openapi.json) is
 * deterministic and `scripts/openapi.ts --check` can tell when a route changed without regenerating.
 */

export type SchemaObject = Record<string, unknown>
type MediaType = { schema?: SchemaObject; example?: unknown; examples?: unknown }
type Header = { description: string; schema: SchemaObject }
type ResponseObject = { description: string; content?: Record<string, MediaType>; headers?: Record<string, Header | { $ref: string }> }
type Parameter = { name: string; in: string; required?: boolean; description?: string; schema?: SchemaObject }
export type Operation = {
  tags?: string[]
  summary?: string
  description?: string
  operationId?: string
  parameters?: Parameter[]
  requestBody?: { required?: boolean; content: Record<string, MediaType> }
  responses?: Record<string, ResponseObject>
  security?: Record<string, string[]>[]
  [key: string]: unknown
}
export type OpenApiDocument = {
  openapi: string
  info: Record<string, unknown>
  servers?: { url: string; description?: string }[]
  paths: Record<string, Record<string, Operation>>
  components?: Record<string, Record<string, unknown>>
  [key: string]: unknown
}

export const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /v1/auth/login or /v1/auth/refresh.' },
  refreshCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'vstep_refresh',
    description: 'Web clients only: the httpOnly refresh-token cookie, accepted with an allowed Origin header.',
  },
  metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, for /metrics and the detailed /readyz.' },
} as const

/** Security for operations whose route does not declare one: the auth macro declares bearer. */
const PUBLIC: Operation['security'] = []

const REASONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '204': 'No Content',
  '206': 'Partial Content',
  '304': 'Not Modified',
  '400': 'Bad Request: the body or a parameter cannot be read',
  '401': 'Unauthorized: a valid access token is required',
  '403': 'Forbidden: your role or the resource does not allow this',
  '404': 'Not Found',
  '409': 'Conflict with the current state',
  '413': 'Content Too Large',
  '415': 'Unsupported Media Type',
  '416': 'Range Not Satisfiable',
  '422': 'Unprocessable Content: a field is invalid (see `errors`)',
  '429': 'Too Many Requests: wait Retry-After seconds',
  '500': 'Internal Server Error',
  '503': 'Service Unavailable: try again after Retry-After seconds',
}

const problemExample = (status: number, title: string, detail: string) => ({
  type: `https://vstep.example/problems/${title.toLowerCase().replaceAll(' ', '-')}`,
  title,
  status,
  detail,
})
const PROBLEM_EXAMPLES: Record<string, ReturnType<typeof problemExample> & { errors?: { field: string; message: string }[] }> = {
  '400': problemExample(400, 'Bad Request', 'the request body is not valid JSON'),
  '401': problemExample(401, 'Unauthorized', 'a valid access token is required'),
  '403': problemExample(403, 'Forbidden', 'your role does not allow this'),
  '404': problemExample(404, 'Not Found', 'submission was not found'),
  '409': problemExample(409, 'Conflict', 'the submission is not in a state that allows this'),
  '413': problemExample(413, 'Content Too Large', 'the request body is larger than the limit of this route'),
  '415': problemExample(415, 'Unsupported Media Type', 'request bodies must be JSON (content-type: application/json)'),
  '416': problemExample(416, 'Range Not Satisfiable', 'the range is outside the recording'),
  '422': {
    ...problemExample(422, 'Unprocessable Content', 'answerText: is required'),
    errors: [{ field: 'answerText', message: 'is required' }],
  },
  '429': problemExample(429, 'Too Many Requests', 'too many requests; try again in 12 s'),
  '500': problemExample(500, 'Internal Server Error', 'something went wrong on our side'),
  '503': problemExample(503, 'Service Unavailable', 'the database is unavailable; try again shortly'),
}

const HEADERS: Record<string, Header> = {
  RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 0 } },
  RateLimit: { description: 'IETF RateLimit header: remaining quota and seconds until it resets, per policy.', schema: { type: 'string' } },
  RateLimitPolicy: { description: 'IETF RateLimit-Policy header: the limits that apply to this request.', schema: { type: 'string' } },
  IdempotentReplayed: {
    description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key.',
    schema: { type: 'string', enum: ['true'] },
  },
  RequestId: { description: 'The request id (echoed from X-Request-Id or generated); it appears in the logs.', schema: { type: 'string' } },
}

const IDEMPOTENCY_KEY: Parameter = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Any unique string (1–255 characters). A repeat with the same body returns the original result; with another body, 409.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
}

const SSE_DESCRIPTION = `A Server-Sent Events stream. Each status change is an \`event: status\` frame whose \`id\` is the event id and
whose \`data\` is one JSON object (SubmissionEvent); \`ping\` frames keep it alive and an \`end\` frame carries the reason the
server closed it. Reconnect with \`Last-Event-ID\` (or \`?since=\`) to resume without loss.`

const LAST_EVENT_ID: Parameter = {
  name: 'Last-Event-ID',
  in: 'header',
  required: false,
  description: 'The id of the last event received; the stream resumes after it.',
  schema: { type: 'string', pattern: '^[0-9]{1,16}$' },
}

/** Removes the JSON Schema dialect marker zod writes into every inline schema (OpenAPI 3.1 sets the dialect). */
function stripDialect(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDialect)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) if (key !== '$schema') out[key] = stripDialect(inner)
    return out
  }
  return value
}

const problemContent = (status: string): Record<string, MediaType> => ({
  'application/problem+json': {
    schema: { $ref: '#/components/schemas/Problem' },
    ...(PROBLEM_EXAMPLES[status] ? { example: PROBLEM_EXAMPLES[status] } : {}),
  },
})

/** A path without a trailing slash (Elysia matches both; the document names one). */
export const canonicalPath = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path)

export type RefineOptions = {
  /** `servers` of the document (the deployment's public URL). */
  servers: { url: string; description?: string }[]
  /** Operations limited per caller outside their own route options (the read limit); they get a documented 429. */
  rateLimited: (method: string, path: string) => boolean
}

function refineOperation(method: string, path: string, source: Operation, options: RefineOptions): Operation {
  const op: Operation = { ...source }
  op.security ??= PUBLIC
  // A bearer token is required (not merely accepted beside another way in, as on /readyz or logout).
  const security = op.security ?? []
  const secured = security.length > 0 && security.every((requirement) => 'bearer' in requirement)
  const responses: Record<string, ResponseObject> = {}
  for (const [status, response] of Object.entries(op.responses ?? {})) {
    const description = REASONS[status] ?? response.description
    if (Number(status) >= 400) responses[status] = { description, content: problemContent(status) }
    // A declared 204 (`z.null()`) arrives as `content: { type: 'null' }`: it has no body, so no content.
    else if (status === '204') responses[status] = { description }
    else responses[status] = { ...response, description }
  }
  const addProblem = (status: string) => {
    responses[status] ??= { description: REASONS[status] ?? status, content: problemContent(status) }
  }
  // Answers every operation of the kind can give, whether or not the route lists them.
  if (secured) addProblem('401')
  if (op.requestBody || op.parameters?.length) addProblem('422')
  if (op.requestBody) {
    addProblem('400')
    addProblem('413')
    addProblem('415')
  }
  // Routes with a `rateLimit` option carry `x-rate-limit` (platform/rate-limit.ts).
  if (options.rateLimited(method, path) || op['x-rate-limit'] || responses['429']) addProblem('429')
  if (path.startsWith('/v1/')) addProblem('503')
  if (responses['429'])
    responses['429'].headers = {
      'Retry-After': HEADERS.RetryAfter!,
      RateLimit: HEADERS.RateLimit!,
      'RateLimit-Policy': HEADERS.RateLimitPolicy!,
    }
  if (responses['503']) responses['503'].headers = { 'Retry-After': HEADERS.RetryAfter! }

  if (op['x-no-content']) {
    delete responses['200']
    responses['204'] = { description: REASONS['204']! }
    delete op['x-no-content']
  }
  const success = Object.keys(responses).filter((status) => Number(status) < 400)
  if (success.length === 0) responses['200'] = { description: 'OK' }

  if (path.endsWith('/events') && method === 'get') {
    responses['200'] = {
      description: SSE_DESCRIPTION,
      content: {
        'text/event-stream': {
          schema: { type: 'string' },
          example: 'id: 42\nevent: status\ndata: {"submissionId":"…","status":"completed"}\n\n',
        },
      },
    }
    op.parameters = [...(op.parameters ?? []).filter((p) => p.name !== 'Last-Event-ID'), LAST_EVENT_ID]
  }

  // A body schema with a binary property is an upload: it is sent as multipart/form-data, not JSON.
  const json = op.requestBody?.content['application/json']
  const properties = (json?.schema?.properties ?? {}) as Record<string, SchemaObject>
  if (op.requestBody && json && Object.values(properties).some((p) => p.format === 'binary')) {
    op.requestBody = {
      ...op.requestBody,
      content: {
        'application/json': { schema: withoutBinary(json.schema ?? {}) },
        'multipart/form-data': { schema: onlyUploadFields(json.schema ?? {}) },
      },
    }
  }

  if (method === 'post' && (path === '/v1/submissions' || path === '/v1/auth/register')) {
    op.parameters = [
      ...(op.parameters ?? []).filter((p) => p.name !== 'Idempotency-Key'),
      ...(path === '/v1/submissions' ? [IDEMPOTENCY_KEY] : []),
    ]
    for (const status of success) {
      const response = responses[status]
      if (response && path === '/v1/submissions')
        response.headers = { ...response.headers, 'Idempotent-Replayed': HEADERS.IdempotentReplayed! }
    }
  }
  op.responses = responses
  return op
}

/** The JSON variant of a text-or-upload body: every field but the file. */
function withoutBinary(schema: SchemaObject): SchemaObject {
  const properties = Object.fromEntries(
    Object.entries((schema.properties ?? {}) as Record<string, SchemaObject>).filter(([, p]) => p.format !== 'binary'),
  )
  return { ...schema, properties }
}

/** The multipart variant: the plain fields other than free text, plus the file (required). */
function onlyUploadFields(schema: SchemaObject): SchemaObject {
  const entries = Object.entries((schema.properties ?? {}) as Record<string, SchemaObject>).filter(
    ([, p]) => p.format === 'binary' || p.type !== 'string' || p.format,
  )
  const properties = Object.fromEntries(
    entries.map(([name, p]) => [name, p.format === 'binary' ? { type: 'string', format: 'binary', description: p.description } : p]),
  )
  const required = [
    ...new Set([
      ...((schema.required as string[] | undefined) ?? []),
      ...entries.filter(([, p]) => p.format === 'binary').map(([name]) => name),
    ]),
  ]
  return { type: 'object', properties, required, additionalProperties: false }
}

export function refineOpenApiDocument(derived: OpenApiDocument, options: RefineOptions): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {}
  for (const [rawPath, operations] of Object.entries(derived.paths)) {
    const path = canonicalPath(rawPath)
    const refined: Record<string, Operation> = { ...paths[path] }
    for (const [method, op] of Object.entries(operations)) refined[method] = refineOperation(method, path, op, options)
    paths[path] = refined
  }
  const document: OpenApiDocument = {
    ...derived,
    servers: options.servers,
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      ...derived.components,
      schemas: { ...derived.components?.schemas, Problem: z.toJSONSchema(Problem) },
      securitySchemes: SECURITY_SCHEMES,
    },
  }
  return stripDialect(document) as OpenApiDocument
}

/**
 * Spread into the `detail` of a route that answers 204 with no body: the derived document would say 200
 * (Elysia ignores `detail.responses` once a route declares `response` schemas), so a marker tells
 * refineOpenApiDocument to document 204 instead.
 */
export const NO_CONTENT = { 'x-no-content': true } as DocumentDecoration
