/**
 * Issue 14, observability, with real processes: the API (`bun src/index.ts`), a grading worker
 * (`python -m grader`, GRADER_PROVIDER=openai against the fake provider, WORKER_METRICS_PORT set),
 * a private PostgreSQL database and redis-server.
 * - A request id sent as `X-Request-Id` comes back in the response, and appears on the API's JSON log
 *   lines for that request and on the worker's JSON log lines for the submission it created.
 * - After traffic (reads, a 404, 429s, an open SSE stream, graded submissions), /metrics of the API and
 *   of the worker, read with a Prometheus text-format parser, have every series the issue asks for
 *   with plausible values.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import { startFakeProvider } from '../support/fake-provider'
import { type Service, WORKER_DIR, waitFor } from '../support/processes'
import { freePort, startTestRedis, type TestRedis } from '../support/redis-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../support/stack'

const METRICS_TOKEN = 'observability-metrics-token-0123'
let database: TestDatabase
let redis: TestRedis
let keyDir: string
let api: string
let workerMetrics: string
let apiService: Service
let workerService: Service
const services: Service[] = []

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false })
  redis = await startTestRedis()
  keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  const fake = startFakeProvider(services, { defaultBehaviour: 'ok' })
  const env = { DATABASE_URL: database.url, REDIS_URL: redis.url, LOG_LEVEL: 'info' }
  api = await startApiProcess(services, { keyDir, env: { ...env, METRICS_TOKEN, RECONCILE_INTERVAL_MS: '0', RATE_LIMIT_LOGIN: '3' } })
  apiService = services.at(-1)!
  seedDatabase(env)
  await fake.ready()
  const metricsPort = freePort()
  workerMetrics = `http://127.0.0.1:${metricsPort}/metrics`
  workerService = startWorkerProcess(services, {
    env: {
      ...env,
      ...fake.workerEnv,
      GRADER_SPOT_CHECK_SHARE: '0',
      WORKER_METRICS_PORT: String(metricsPort),
      WORKER_METRICS_HOST: '127.0.0.1',
    },
  })
}, 120_000)

afterAll(async () => {
  for (const service of services.reverse()) await service.stop()
  await redis?.dispose()
  await database?.drop()
  if (keyDir) rmSync(keyDir, { recursive: true, force: true })
})

type Json = Record<string, unknown>
const call = (method: string, path: string, init: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  fetch(`${api}${path}`, {
    method,
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  })

/** The JSON lines a process wrote (its stdout and stderr); anything else fails the test. */
const jsonLines = (service: Service): Json[] =>
  service
    .output()
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Json)

/**
 * Prometheus text format read by the reference parser, prometheus_client's (the worker's dependency):
 * the npm parsers mishandle histograms with labels. Every sample: name (with _bucket/_sum/_count),
 * labels, value; a family's type comes with it.
 */
type Sample = { family: string; type: string; name: string; labels: Record<string, string>; value: number }
const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
print(json.dumps([{"family": f.name, "type": f.type, "name": s.name, "labels": s.labels, "value": s.value}
                  for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]))
`
function parsePrometheus(text: string): Sample[] {
  const run = Bun.spawnSync(['uv', 'run', '--frozen', 'python', '-c', PARSE], {
    cwd: WORKER_DIR,
    stdin: new TextEncoder().encode(text),
    env: { ...process.env, UV_PYTHON_DOWNLOADS: 'never' },
  })
  if (run.exitCode !== 0) throw new Error(`not Prometheus text format:\n${run.stderr.toString()}`)
  return JSON.parse(run.stdout.toString()) as Sample[]
}
const scrape = async (url: string, headers: Record<string, string> = {}): Promise<Sample[]> => {
  const res = await fetch(url, { headers })
  expect(res.status).toBe(200)
  return parsePrometheus(await res.text())
}
/** The sum of the samples named `name` whose labels include `labels`; throws when the series is absent. */
const sampleValue = (samples: Sample[], name: string, labels: Record<string, string> = {}): number => {
  const series = samples.filter((s) => s.name === name)
  if (series.length === 0) throw new Error(`no series ${name}`)
  return series.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0)
}
const typeOf = (samples: Sample[], family: string) => samples.find((s) => s.family === family)?.type

async function signUp(): Promise<{ token: string; email: string }> {
  const email = `obs-${crypto.randomUUID()}@example.test`
  const password = 'correct horse battery staple'
  expect((await call('POST', '/v1/auth/register', { body: { email, password, displayName: 'Obs' } })).status).toBe(201)
  const login = await call('POST', '/v1/auth/login', { body: { email, password } })
  return { token: ((await login.json()) as { accessToken: string }).accessToken, email }
}

async function writingTask(token: string): Promise<string> {
  const list = (await (await call('GET', '/v1/tasks?skill=writing', { token })).json()) as { items: { id: string; skill: string }[] }
  return list.items.find((t) => t.skill === 'writing')!.id
}

const waitForStatus = (id: string, token: string, statuses: string[]) =>
  waitFor(
    `submission ${id} to reach ${statuses.join('/')}`,
    async () => {
      const body = (await (await call('GET', `/v1/submissions/${id}`, { token })).json()) as { status: string }
      return statuses.includes(body.status) ? body.status : undefined
    },
    60_000,
    services,
  )

const ANSWER =
  'Many people believe that technology has changed the way we learn. In my opinion, online courses give students more freedom, ' +
  'because they can study at their own pace and review difficult lessons. However, teachers are still important, since they ' +
  'motivate learners and answer their questions. In conclusion, the best approach combines both ways of learning.'

test('a request id sent in X-Request-Id is echoed and appears on the API and worker log lines of its submission', async () => {
  const { token } = await signUp()
  const taskId = await writingTask(token)
  const requestId = `obs-${crypto.randomUUID()}`
  const res = await call('POST', '/v1/submissions', { token, body: { taskId, answerText: ANSWER }, headers: { 'x-request-id': requestId } })
  expect(res.status).toBe(202)
  expect(res.headers.get('x-request-id')).toBe(requestId)
  const { id } = (await res.json()) as { id: string }
  expect(await waitForStatus(id, token, ['completed', 'review_pending'])).toBeDefined()

  // The API: the access line of the request and the enqueue line of the submission.
  const apiLines = await waitFor('the API access line', async () => {
    const lines = jsonLines(apiService).filter((l) => l.request_id === requestId)
    return lines.some((l) => l.msg === 'request') ? lines : undefined
  })
  expect(apiLines.find((l) => l.msg === 'request')).toMatchObject({ level: 'info', method: 'POST', status: 202 })
  expect(apiLines.find((l) => l.msg === 'grading job enqueued')).toMatchObject({ submission_id: id, enqueued: true })
  expect(apiLines.every((l) => typeof l.time === 'string')).toBe(true)

  // The worker: every line about this submission's job carries the same request id.
  const workerLines = await waitFor('the worker lines', async () => {
    const lines = jsonLines(workerService).filter((l) => l.submission_id === id)
    return lines.some((l) => l.msg === 'job finished') ? lines : undefined
  })
  expect(workerLines.length).toBeGreaterThanOrEqual(3) // started, graded, finished
  expect(workerLines.every((l) => l.request_id === requestId)).toBe(true)
  expect(workerLines.some((l) => String(l.msg).includes(`submission ${id} graded`))).toBe(true)
  expect(workerLines.find((l) => l.msg === 'job finished')).toMatchObject({
    level: 'info',
    outcome: expect.stringMatching(/completed|review_pending/),
  })

  // A malformed id is replaced, never echoed into logs or headers.
  const bad = await call('GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } })
  expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  // A problem answer carries it too.
  const missing = await call('GET', '/v1/submissions/not-a-uuid', { token, headers: { 'x-request-id': requestId + '-b' } })
  expect(missing.status).toBe(422)
  expect(missing.headers.get('x-request-id')).toBe(requestId + '-b')
})

test('after traffic, /metrics of the API and of the worker parse and carry every series with plausible values', async () => {
  const { token, email } = await signUp()
  const taskId = await writingTask(token)
  // An SSE stream stays open while we scrape.
  const abort = new AbortController()
  const stream = await fetch(`${api}/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal })
  expect(stream.status).toBe(200)
  // The stream subscribes when its first event is pulled: read up to `ready`, then leave it open.
  const reader = stream.body!.getReader()
  let head = ''
  while (!head.includes('event: ready')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the stream ended early: ${head}`)
    head += new TextDecoder().decode(value)
  }
  try {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await call('POST', '/v1/submissions', { token, body: { taskId, answerText: `${ANSWER} Version ${i}.` } })
      expect(res.status).toBe(202)
      ids.push(((await res.json()) as { id: string }).id)
    }
    expect((await call('GET', '/no/such/route')).status).toBe(404)
    // Wrong passwords until the login limit answers 429.
    let limited = 0
    for (let i = 0; i < 10 && limited === 0; i++) {
      if ((await call('POST', '/v1/auth/login', { body: { email, password: 'wrong password!' } })).status === 429) limited++
    }
    expect(limited).toBe(1)
    for (const id of ids) await waitForStatus(id, token, ['completed', 'review_pending'])

    const auth = { authorization: `Bearer ${METRICS_TOKEN}` }
    const m = await waitFor('the SSE stream to be counted', async () => {
      const families = await scrape(`${api}/metrics`, auth)
      return sampleValue(families, 'vstep_sse_subscribers') >= 1 ? families : undefined
    })
    // HTTP: rate by route and actual status, errors, duration histograms.
    // Elysia names this route `/v1/submissions` or `/v1/submissions/` (a group's root).
    const submitRoute = m.find(
      (s) => s.name === 'http_requests_total' && s.labels.method === 'POST' && s.labels.route!.startsWith('/v1/submissions'),
    )!.labels.route!
    expect(sampleValue(m, 'http_requests_total', { method: 'POST', route: submitRoute, status: '202' })).toBeGreaterThanOrEqual(4)
    expect(sampleValue(m, 'http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1)
    expect(sampleValue(m, 'http_requests_total', { route: '/v1/auth/login', status: '429' })).toBe(1)
    expect(sampleValue(m, 'http_requests_total', { status: '500' })).toBe(0)
    expect(typeOf(m, 'http_request_duration_seconds')).toBe('histogram')
    const submit = { method: 'POST', route: submitRoute }
    const submitCount = sampleValue(m, 'http_request_duration_seconds_count', submit)
    expect(submitCount).toBeGreaterThanOrEqual(4)
    expect(sampleValue(m, 'http_request_duration_seconds_bucket', { ...submit, le: '+Inf' })).toBe(submitCount)
    expect(sampleValue(m, 'http_request_duration_seconds_sum', submit) / submitCount).toBeGreaterThan(0)
    expect(sampleValue(m, 'http_request_duration_seconds_sum', submit) / submitCount).toBeLessThan(5)
    // Rate-limit rejections, SSE, queue, submissions, breakers, process.
    expect(sampleValue(m, 'vstep_rate_limit_rejections_total', { route: '/v1/auth/login' })).toBe(1)
    expect(sampleValue(m, 'vstep_sse_subscribers')).toBe(1)
    expect(sampleValue(m, 'vstep_queue_depth')).toBe(0)
    expect(sampleValue(m, 'vstep_queue_oldest_waiting_seconds')).toBe(0)
    expect(sampleValue(m, 'vstep_submissions')).toBeGreaterThanOrEqual(4)
    expect(sampleValue(m, 'grader_breaker_state', { provider: 'openai' })).toBe(0)
    expect(sampleValue(m, 'grader_provider_calls_total', { provider: 'openai', outcome: 'success' })).toBeGreaterThanOrEqual(4)
    expect(sampleValue(m, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000)
    expect(sampleValue(m, 'process_open_fds')).toBeGreaterThan(3)

    // The worker: jobs by outcome and duration, grading latency by provider.
    const w = await scrape(workerMetrics)
    const finished = ['completed', 'review_pending'].reduce((n, outcome) => n + sampleValue(w, 'grader_jobs_total', { outcome }), 0)
    expect(finished).toBeGreaterThanOrEqual(4)
    expect(typeOf(w, 'grader_job_duration_seconds')).toBe('histogram')
    expect(sampleValue(w, 'grader_job_duration_seconds_count')).toBeGreaterThanOrEqual(4)
    const openai = { provider: 'openai', step: 'score' }
    const calls = sampleValue(w, 'grader_grading_latency_seconds_count', openai)
    expect(calls).toBeGreaterThanOrEqual(4)
    expect(sampleValue(w, 'grader_grading_latency_seconds_sum', openai) / calls).toBeGreaterThan(0)
    expect(sampleValue(w, 'grader_grading_latency_seconds_sum', openai) / calls).toBeLessThan(10)
  } finally {
    abort.abort()
  }
}, 120_000)
