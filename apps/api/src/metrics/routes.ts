import { Elysia } from 'elysia'
import type { AppDeps } from '../deps'
import { log } from '../platform/logger'
import { ProblemError, unauthorized } from '../platform/problem'
import { requestIdOf } from '../platform/request-context'
import { metricsAccess, statusSent } from './access'
import { registerScrapeGauges } from './gauges'
import { HttpMetrics } from './registry'

export { HttpMetrics } from './registry'

/** Probes and scrapes come every few seconds: their access lines are debug, not info. */
const QUIET_ROUTES = new Set(['/metrics', '/healthz', '/readyz'])

/**
 * `GET /metrics` in Prometheus text format (prom-client): request counts and latencies by route
 * template (never by raw path, so ids do not explode the series), 429s by route, the process metrics,
 * and gauges read at scrape time (./gauges.ts). Behind METRICS_TOKEN (a Bearer token; see ./access.ts
 * and docs/operations.md). Requests are counted with the status really sent (a problem answer, a 304,
 * an unmatched 404), and each one writes one access log line with its request id.
 */
export const metricsRoutes = (deps: AppDeps, http: HttpMetrics = new HttpMetrics()) => {
  const started = new WeakMap<Request, number>()
  registerScrapeGauges(http.registry, deps)

  return new Elysia({ name: 'metrics' })
    .onRequest(({ request }) => {
      started.set(request, performance.now())
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set, responseValue }) => {
      const t0 = started.get(request)
      if (t0 === undefined) return
      const seconds = (performance.now() - t0) / 1000
      const status = statusSent(responseValue, set.status)
      const template = route || 'unmatched'
      if (route !== '/metrics') http.record(request.method, template, status, seconds)
      const level = QUIET_ROUTES.has(route) ? 'debug' : 'info'
      if (!log.isLevelEnabled(level)) return // LOG_LEVEL=warn: no line to build
      const line = {
        request_id: requestIdOf(request),
        method: request.method,
        route: template,
        status,
        duration_ms: Math.round(seconds * 10_000) / 10,
      }
      log[level](line, 'request')
    })
    .get(
      '/metrics',
      async ({ set, request }) => {
        const access = metricsAccess(deps.config, request.headers.get('authorization'))
        if (access === 'denied') throw unauthorized('GET /metrics needs the metrics token (METRICS_TOKEN) as a Bearer token')
        if (access === 'disabled') throw new ProblemError(404, 'Not Found', 'metrics are off: set METRICS_TOKEN to serve them')
        // afterResponse hooks run a tick after their answer: let those of requests answered just
        // before this scrape count first, so a client reading /metrics after its own request sees it.
        await new Promise((resolve) => setImmediate(resolve))
        set.headers['content-type'] = http.registry.contentType
        return http.registry.metrics()
      },
      {
        detail: {
          tags: ['ops'],
          summary: 'Prometheus metrics (Bearer METRICS_TOKEN)',
          security: [{ metricsToken: [] }],
          responses: { 200: { description: 'Prometheus text format' }, 401: { description: 'METRICS_TOKEN missing or wrong' } },
        },
      },
    )
}
