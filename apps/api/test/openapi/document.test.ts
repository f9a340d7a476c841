import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { canonicalPath, refineOpenApiDocument, type OpenApiDocument } from '../../src/openapi/document'
import { currentDocumentText, SNAPSHOT } from '../../scripts/openapi'

const committed = await Bun.file(SNAPSHOT).text()
const doc = JSON.parse(committed) as OpenApiDocument
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })))

describe('the committed OpenAPI snapshot (apps/api/openapi.json)', () => {
  test('matches what the routes describe now (the drift check of the test command)', () => {
    expect(currentDocumentText()).toBe(committed)
  })

  test('a route added without regenerating makes the check fail', async () => {
    const { buildOpenApiDocument } = await import('../../src/openapi/routes')
    const changed = new Elysia().get('/v1/tasks', () => 'x').get('/v1/brand-new', () => 'y')
    const text = `${JSON.stringify(buildOpenApiDocument(changed), null, 2)}\n`
    expect(text).not.toBe(committed)
    expect(JSON.parse(text).paths['/v1/brand-new']).toBeDefined()
  })

  test('has no trailing-slash paths and names its servers', () => {
    expect(Object.keys(doc.paths).filter((p) => p !== '/' && p.endsWith('/'))).toEqual([])
    expect(doc.servers?.length).toBeGreaterThan(0)
  })

  test('every operation declares its security: bearer for signed-in routes, explicitly none for public ones', () => {
    for (const { path, method, op } of operations)
      expect({ operation: `${method} ${path}`, declared: Array.isArray(op.security) }).toEqual({
        operation: `${method} ${path}`,
        declared: true,
      })
    const bearer = (path: string, method: string) => doc.paths[path]![method]!.security!.some((r) => 'bearer' in r)
    expect(bearer('/v1/me', 'get')).toBe(true)
    expect(bearer('/v1/submissions', 'post')).toBe(true)
    expect(doc.paths['/v1/auth/login']!.post!.security).toEqual([])
    expect(doc.paths['/v1/tasks']!.get!.security).toEqual([])
    expect(doc.paths['/v1/auth/refresh']!.post!.security).toEqual([{}, { refreshCookie: [] }])
  })

  test('every error response is problem+json with the Problem schema and an example', () => {
    let errors = 0
    for (const { op } of operations) {
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (Number(status) < 400) continue
        errors++
        const media = response.content?.['application/problem+json']
        expect(media?.schema).toEqual({ $ref: '#/components/schemas/Problem' })
        expect(media?.example).toBeDefined()
      }
    }
    expect(errors).toBeGreaterThan(100)
    expect(doc.components?.schemas?.Problem).toBeDefined()
  })

  test('signed-in routes list 401; limited routes list 429 with Retry-After and the RateLimit headers', () => {
    expect(doc.paths['/v1/me']!.get!.responses!['401']).toBeDefined()
    for (const [path, method] of [
      ['/v1/auth/login', 'post'],
      ['/v1/submissions', 'post'],
      ['/v1/tasks', 'get'],
    ] as const) {
      const headers = doc.paths[path]![method]!.responses!['429']!.headers ?? {}
      expect(Object.keys(headers).sort()).toEqual(['RateLimit', 'RateLimit-Policy', 'Retry-After'])
    }
  })

  test('SSE routes are text/event-stream; the upload is multipart; submissions take an Idempotency-Key', () => {
    for (const path of ['/v1/events', '/v1/submissions/{id}/events']) {
      expect(Object.keys(doc.paths[path]!.get!.responses!['200']!.content ?? {})).toEqual(['text/event-stream'])
      expect(doc.paths[path]!.get!.parameters?.map((p) => p.name)).toContain('Last-Event-ID')
    }
    const submit = doc.paths['/v1/submissions']!.post!
    const multipart = submit.requestBody!.content['multipart/form-data']!.schema as {
      required: string[]
      properties: Record<string, { format?: string }>
    }
    expect(multipart.required).toEqual(['taskId', 'audio'])
    expect(multipart.properties.audio!.format).toBe('binary')
    expect(submit.parameters?.map((p) => p.name)).toContain('Idempotency-Key')
  })
})

describe('refineOpenApiDocument', () => {
  const derived = (paths: OpenApiDocument['paths']): OpenApiDocument => ({ openapi: '3.1.2', info: { title: 't', version: '1' }, paths })
  const refine = (d: OpenApiDocument) => refineOpenApiDocument(d, { servers: [{ url: 'http://api' }], rateLimited: () => false })

  test('merges a trailing-slash path into its canonical form', () => {
    expect(canonicalPath('/v1/tasks/')).toBe('/v1/tasks')
    expect(canonicalPath('/')).toBe('/')
    const out = refine(derived({ '/v1/x/': { get: { responses: { 200: { description: 'r' } } } }, '/v1/x/{id}': { get: {} } }))
    expect(Object.keys(out.paths)).toEqual(['/v1/x', '/v1/x/{id}'])
  })

  test('turns a declared JSON error into problem+json and strips the zod dialect marker', () => {
    const out = refine(
      derived({
        '/v1/x': {
          get: {
            responses: {
              404: {
                description: 'Response for status 404',
                content: { 'application/json': { schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' } } },
              },
            },
          },
        },
      }),
    )
    const response = out.paths['/v1/x']!.get!.responses!['404']!
    expect(Object.keys(response.content ?? {})).toEqual(['application/problem+json'])
    expect(JSON.stringify(out)).not.toContain('$schema')
  })
})
