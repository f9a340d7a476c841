import { collectDefaultMetrics, Counter, Registry } from 'prom-client'
import { RequestCounter, RequestLatency } from './request-series'

/**
 * The API's Prometheus registry, built on prom-client (the ecosystem's maintained client) instead of
 * the hand-written one this replaced. One registry per app, not prom-client's global one: tests build
 * many apps in one process. The default metrics (process_resident_memory_bytes, process_open_fds,
 * nodejs_eventloop_lag_seconds, heap sizes…) come with it; the soak benchmark reads them too.
 */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export function createRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return registry
}

/** The request series; app.ts also counts the CORS preflights it answers before any route runs. */
export class HttpMetrics {
  readonly registry = createRegistry()
  // Counted in plain maps per request, handed to prom-client at scrape time (request-series.ts).
  readonly requests = new RequestCounter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route template and the status really sent',
    registers: [this.registry],
  })
  readonly latency = new RequestLatency({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method and route template',
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  })
  readonly rateLimited = new Counter({
    name: 'vstep_rate_limit_rejections_total',
    help: 'Requests refused with 429 (rate limits, per-client concurrency shares, the SSE stream cap) by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  })

  /** One answered request; `seconds` is undefined for answers given before timing started. */
  record(method: string, route: string, status: number, seconds?: number): void {
    this.requests.count(method, route, status)
    if (status === 429) this.rateLimited.inc({ route })
    if (seconds !== undefined) this.latency.time(method, route, seconds)
  }

  /** For answers given in onRequest, which Elysia's afterResponse hooks never see. */
  countEarlyAnswer(request: Request, route: string, status: number): void {
    this.record(request.method, route, status)
  }
}

/** A counter whose total lives elsewhere (Redis) and is copied in at scrape time. */
export function setCounter<L extends string>(counter: Counter<L>, values: { labels: Record<L, string>; value: number }[]): void {
  counter.reset()
  for (const { labels, value } of values) counter.inc(labels as Parameters<Counter<L>['inc']>[0] & object, value)
}
