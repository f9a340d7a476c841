import { toOpenAPISchema } from '@elysiajs/openapi'
import { Elysia, type AnyElysia } from 'elysia'
import { isLimitedRead } from '../platform/read-limit'
import { type OpenApiDocument, refineOpenApiDocument } from './document'

export const OPENAPI_INFO = {
  title: 'VSTEP practice API',
  version: '1.0.0',
  description: `Practice for the VSTEP exam: learners submit essays and spoken answers, an AI grader scores them (0–10 in
steps of 0.5, CEFR B1/B2/C1) and doubtful results go to human reviewers. Every error is RFC 9457 problem+json. Sign in
with /v1/auth/login and send the access token as \`Authorization: Bearer …\`; follow status changes over SSE.`,
  license: { name: 'Proprietary', url: 'https://vstep.example/licence' },
}

const TAGS = [
  { name: 'auth', description: 'Accounts, sessions and tokens' },
  { name: 'me', description: 'The signed-in user' },
  { name: 'tasks', description: 'The task catalogue' },
  { name: 'submissions', description: 'Answers, their grades and recordings' },
  { name: 'live', description: 'Server-Sent Events of status changes' },
  { name: 'reviews', description: 'Human review of AI grades (instructors and admins)' },
  { name: 'progress', description: "A learner's progress and what to practise next" },
  { name: 'admin', description: 'Users, roles, dead letters and audits (admins)' },
  { name: 'ops', description: 'Health, readiness and metrics' },
]

/** The document of `app`: what Elysia derives from its routes, refined by openapi/document.ts. */
export function buildOpenApiDocument(
  app: AnyElysia,
  servers: OpenApiDocument['servers'] = [{ url: 'http://localhost:3000', description: 'local development' }],
): OpenApiDocument {
  const derived = toOpenAPISchema(app) as unknown as Pick<OpenApiDocument, 'paths' | 'components'>
  const tagsInUse = new Set(Object.values(derived.paths).flatMap((ops) => Object.values(ops).flatMap((op) => op.tags ?? [])))
  return refineOpenApiDocument(
    {
      openapi: '3.1.2',
      info: OPENAPI_INFO,
      tags: TAGS.filter((t) => tagsInUse.has(t.name)),
      paths: derived.paths,
      components: derived.components ?? {},
    },
    { servers: servers ?? [], rateLimited: (method, path) => isLimitedRead(method.toUpperCase(), `http://api${path}`) },
  )
}

/**
 * `GET /openapi/json` (the document, built once on first request) and `GET /openapi` (a reference page that
 * loads Scalar from its CDN; the JSON works offline). `app` is the whole API, read lazily so every route is in.
 */
export const openapiRoutes = (app: () => AnyElysia) => {
  let document: OpenApiDocument | undefined
  return new Elysia({ name: 'openapi' })
    .get('/openapi/json', () => (document ??= buildOpenApiDocument(app())), { detail: { hide: true } })
    .get(
      '/openapi',
      () =>
        new Response(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${OPENAPI_INFO.title}</title></head><body><script id="api-reference" data-url="/openapi/json"></script><script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script></body></html>`,
          { headers: { 'content-type': 'text/html; charset=utf-8' } },
        ),
      { detail: { hide: true } },
    )
}
