import { adminRoutes } from './admin/routes'
import { Elysia } from 'elysia'
import { authRoutes } from './auth/routes'
import { catalogRoutes } from './catalog/routes'
import { allowedOrigins } from './config'
import type { AppDeps } from './deps'
import { eventRoutes } from './events/routes'
import { healthRoutes } from './health/routes'
import { HttpMetrics, metricsRoutes } from './metrics/routes'
import { openapiRoutes } from './openapi/routes'
import { bodyGate } from './platform/body-guard'
import { preparedBodies } from './platform/prepared-body'
import { problemHandler } from './platform/problem'
import { readLimit } from './platform/read-limit'
import { requestContext } from './platform/request-context'
import { progressRoutes } from './progress/routes'
import { reviewRoutes } from './reviews/routes'
import { audioUploadPolicy } from './submissions/audio'
import { submissionRoutes } from './submissions/routes'

export type { AppDeps } from './deps'

/** The whole HTTP API, composed from feature plugins. It never listens; index.ts does. */
export function createApp(deps: AppDeps) {
  const corsOrigins = allowedOrigins(deps.config)
  const httpMetrics = new HttpMetrics()
  // Every request body passes the body gate (size, media type, nesting, auth first); see body-guard.ts.
  const gate = bodyGate({
    jsonLimitBytes: deps.config.JSON_BODY_LIMIT_BYTES,
    // Recordings: multipart on POST /v1/submissions, with its own (larger) limit (submissions/audio.ts).
    policies: { 'POST /v1/submissions/': audioUploadPolicy(deps.config), 'POST /v1/submissions': audioUploadPolicy(deps.config) },
  })
  // `serve` applies wherever the app listens (index.ts, tests, bench): Bun refuses larger bodies with a bare 413.
  const app = new Elysia({ name: 'vstep-api', serve: { maxRequestBodySize: deps.config.MAX_REQUEST_BODY_BYTES } })
    .use(problemHandler)
    .use(preparedBodies) // bodies serialised once are sent as they are (platform/prepared-body.ts)
    .use(requestContext) // X-Request-Id in, out, and on every log line of the request
    .use(gate.plugin)
    .onRequest(({ request, set }) => {
      const origin = request.headers.get('origin')
      if (origin && corsOrigins.has(origin)) {
        set.headers['access-control-allow-origin'] = origin
        set.headers['access-control-allow-credentials'] = 'true'
        set.headers.vary = 'Origin'
        if (request.method === 'OPTIONS') {
          set.headers['access-control-allow-methods'] = 'GET,POST,PUT,PATCH,DELETE,OPTIONS'
          set.headers['access-control-allow-headers'] = 'authorization,content-type,idempotency-key,last-event-id'
          set.headers['access-control-max-age'] = '600'
          httpMetrics.countEarlyAnswer(request, 'cors-preflight', 204) // afterResponse hooks never see this answer
          return new Response(null, { status: 204, headers: set.headers as Record<string, string> })
        }
      }
    })
    .use(metricsRoutes(deps, httpMetrics))
    .use(readLimit(deps)) // GETs under /v1 per caller (platform/read-limit.ts)
    .use(healthRoutes(deps))
    .use(authRoutes(deps))
    .use(adminRoutes(deps))
    .use(catalogRoutes(deps))
    .use(submissionRoutes(deps))
    .use(reviewRoutes(deps))
    .use(progressRoutes(deps))
    .use(eventRoutes(deps))
  // The OpenAPI document describes every route above (openapi/routes.ts); added last, read lazily.
  app.use(openapiRoutes(() => app))
  gate.bind(app)
  return app
}

export type App = ReturnType<typeof createApp>
