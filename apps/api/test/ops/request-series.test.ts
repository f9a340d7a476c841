import { describe, expect, test } from 'bun:test'
import { Counter, Histogram, Registry } from 'prom-client'
import { HTTP_BUCKETS } from '../../src/metrics/registry'
import { bucketIndex, RequestCounter, RequestLatency } from '../../src/metrics/request-series'

/** metrics/request-series.ts: counted in plain maps, exposed exactly as prom-client's own metrics. */
describe('request series', () => {
  test('bucketIndex: the first bound holding the value, or past the last', () => {
    expect(bucketIndex([0.1, 0.5, 1], 0.05)).toBe(0)
    expect(bucketIndex([0.1, 0.5, 1], 0.1)).toBe(0)
    expect(bucketIndex([0.1, 0.5, 1], 0.2)).toBe(1)
    expect(bucketIndex([0.1, 0.5, 1], 3)).toBe(3)
  })

  test('the /metrics text is the same as prom-client Counter and Histogram fed the same requests', async () => {
    const ours = new Registry()
    const reference = new Registry()
    const counter = new RequestCounter({ name: 'http_requests_total', help: 'h', registers: [ours] })
    const latency = new RequestLatency({ name: 'http_request_duration_seconds', help: 'd', buckets: HTTP_BUCKETS, registers: [ours] })
    const refCounter = new Counter({
      name: 'http_requests_total',
      help: 'h',
      labelNames: ['method', 'route', 'status'],
      registers: [reference],
    })
    const refLatency = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'd',
      labelNames: ['method', 'route'],
      buckets: HTTP_BUCKETS,
      registers: [reference],
    })
    const requests: [string, string, number, number][] = [
      ['GET', '/v1/tasks/', 200, 0.001],
      ['GET', '/v1/tasks/', 200, 0.02],
      ['GET', '/v1/tasks/', 304, 0.004],
      ['POST', '/v1/submissions', 201, 0.3],
      ['GET', '/v1/me', 200, 12],
    ]
    const feed = () => {
      for (const [method, route, status, seconds] of requests) {
        counter.count(method, route, status)
        latency.time(method, route, seconds)
        refCounter.inc({ method, route, status: String(status) })
        refLatency.observe({ method, route }, seconds)
      }
    }
    feed()
    expect(await ours.metrics()).toBe(await reference.metrics())
    // Counts between two scrapes add up; the exposition stays the same.
    feed()
    feed()
    const text = await ours.metrics()
    expect(text).toBe(await reference.metrics())
    expect(text).toContain('http_requests_total{method="GET",route="/v1/tasks/",status="200"} 6')
    expect(text).toContain('http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/v1/me"} 3')
  })
})
