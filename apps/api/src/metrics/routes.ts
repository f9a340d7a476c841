import { sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import type { AppDeps } from '../deps'
import { ProblemError, unauthorized } from '../platform/problem'
import { metricsAccess, statusSent } from './access'
import { readBreakers, renderBreakers } from './breakers'
import { Counter, Histogram, renderGauge } from './registry'

/** The request counters; app.ts also counts the CORS preflights it answers before any route runs. */
export class HttpMetrics {
  readonly requests = new Counter('http_requests_total', 'HTTP requests by method, route and status')
  readonly latency = new Histogram('http_request_duration_seconds', 'HTTP request latency by method and route')

  /** For answers given in onRequest, which Elysia's afterResponse hooks never see. */
  countEarlyAnswer(request: Request, route: string, status: number): void {
    this.requests.inc({ method: request.method, route, status: String(status) })
  }
}

/**
 * `GET /metrics` in Prometheus text format: request counts and latencies by route template (never
 * by raw path, so ids do not explode the series), plus gauges read at scrape time: submissions by
 * status, open reviews by priority, the arq queue depth, and live SSE subscribers.
 * Behind METRICS_TOKEN (a Bearer token; see ./access.ts and docs/operations.md). Requests are
 * counted with the status really sent (a problem answer, a 304, an unmatched 404).
 */
export const metricsRoutes = (deps: AppDeps, http: HttpMetrics = new HttpMetrics()) => {
  const { requests, latency } = http
  const started = new WeakMap<Request, number>()

  return new Elysia({ name: 'metrics' })
    .onRequest(({ request }) => {
      started.set(request, performance.now())
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set, responseValue }) => {
      const t0 = started.get(request)
      if (t0 === undefined || route === '/metrics') return
      const labels = { method: request.method, route: route || 'unmatched' }
      requests.inc({ ...labels, status: String(statusSent(responseValue, set.status)) })
      latency.observe(labels, (performance.now() - t0) / 1000)
    })
    .get(
      '/metrics',
      async ({ set, request }) => {
        const access = metricsAccess(deps.config, request.headers.get('authorization'))
        if (access === 'denied') throw unauthorized('GET /metrics needs the metrics token (METRICS_TOKEN) as a Bearer token')
        if (access === 'disabled') throw new ProblemError(404, 'Not Found', 'metrics are off: set METRICS_TOKEN to serve them')
        const [byStatus, openReviews, queueDepth, breakers] = await Promise.all([
          deps.db.execute<{ status: string; n: number }>(sql`select status::text, count(*)::int as n from submissions group by status`),
          deps.db.execute<{ priority: string; n: number }>(
            sql`select priority::text, count(*)::int as n from reviews where completed_at is null group by priority`,
          ),
          deps.redis.run((c) => c.send('ZCARD', [deps.config.ARQ_QUEUE_NAME])).then(Number, () => Number.NaN),
          // The worker's circuit breakers live in Redis (it has no HTTP server); none when Redis is down.
          deps.redis.run(readBreakers).catch(() => []),
        ])
        set.headers['content-type'] = 'text/plain; version=0.0.4; charset=utf-8'
        return [
          requests.render(),
          latency.render(),
          renderGauge('vstep_submissions', 'Submissions by status', [...byStatus].map((r) => ({ labels: { status: r.status }, value: r.n }))),
          renderGauge('vstep_reviews_open', 'Open reviews by priority', [...openReviews].map((r) => ({ labels: { priority: r.priority }, value: r.n }))),
          renderGauge('vstep_queue_depth', 'Jobs in the arq queue, queued or running (NaN when Redis is down)', [{ labels: {}, value: queueDepth }]),
          renderGauge('vstep_sse_subscribers', 'Open SSE streams in this process', [{ labels: {}, value: deps.events.subscriberCount }]),
          renderBreakers(breakers),
          '',
        ].join('\n')
      },
      { detail: { tags: ['ops'], summary: 'Prometheus metrics (Bearer METRICS_TOKEN)', security: [{ metricsToken: [] }], responses: { 200: { description: 'Prometheus text format' }, 401: { description: 'METRICS_TOKEN missing or wrong' } } } },
    )
}
