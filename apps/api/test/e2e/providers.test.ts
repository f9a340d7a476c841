/**
 * Issue 8 end to end, with real processes: the API (`bun src/index.ts`), a grading worker
 * (`python -m grader`, GRADER_PROVIDER=openai) and the fake OpenAI-compatible provider run standalone
 * (workers/grader-py/tests/fake_provider.py), a private PostgreSQL database and redis-server. A
 * provider that always times out gets exactly 4 tries, the submission fails with a dead letter, and
 * once the provider is back the admin's re-queue grades it; /metrics shows the breaker's counters.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import { startFakeProvider } from '../support/fake-provider'
import { type Service, waitFor } from '../support/processes'
import { startTestRedis, type TestRedis } from '../support/redis-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../support/stack'

let database: TestDatabase
let redis: TestRedis
let sql: postgres.Sql
let keyDir: string
let api: string
let fake: string
const services: Service[] = []

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false })
  redis = await startTestRedis()
  keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  const provider = startFakeProvider(services, { defaultBehaviour: 'slow:3' })
  fake = provider.url
  const env = { DATABASE_URL: database.url, REDIS_URL: redis.url }
  api = await startApiProcess(services, { keyDir, env: { ...env, RECONCILE_INTERVAL_MS: '0' } })
  seedDatabase(env)
  await provider.ready()
  startWorkerProcess(services, {
    env: {
      ...env,
      ...provider.workerEnv,
      GRADER_SPOT_CHECK_SHARE: '0',
      GRADER_RETRY_BASE_SECONDS: '0.2',
      GRADER_PROVIDER_TIMEOUT_SECONDS: '0.5',
    },
  })
  sql = postgres(database.url, { max: 2, onnotice: () => {} })
}, 120_000)

afterAll(async () => {
  for (const service of services.reverse()) await service.stop()
  await sql?.end()
  await redis?.dispose()
  await database?.drop()
  if (keyDir) rmSync(keyDir, { recursive: true, force: true })
})

const call = (method: string, path: string, token?: string, body?: unknown) =>
  fetch(`${api}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })

const statusOf = async (id: string) => (await sql<{ status: string }[]>`select status::text from submissions where id = ${id}`)[0]?.status

test('4 timeouts → failed + dead letter; the admin re-queue completes once the provider is back; /metrics shows the calls', async () => {
  const email = `admin-${crypto.randomUUID()}@example.test`
  expect(
    (await call('POST', '/v1/auth/register', undefined, { email, password: 'a long enough password', displayName: 'Admin' })).status,
  ).toBe(201)
  await sql`update users set role = 'admin' where email = ${email}`
  const login = (await (await call('POST', '/v1/auth/login', undefined, { email, password: 'a long enough password' })).json()) as {
    accessToken: string
  }
  const token = login.accessToken
  const [task] = await sql<{ id: string }[]>`select id from tasks where skill = 'writing' and grading_mode = 'auto' limit 1`
  const created = await call('POST', '/v1/submissions', token, {
    taskId: task!.id,
    answerText: 'Working from home saves time and money for many people in big cities.',
  })
  expect(created.status).toBe(202)
  const { id } = (await created.json()) as { id: string }

  await waitFor('the submission to fail', async () => ((await statusOf(id)) === 'failed' ? true : undefined), 60_000, services)
  const calls = (await (await fetch(`${fake}/_control/calls`)).json()) as { behaviour: string }[]
  expect(calls.length).toBe(4)

  const listed = (await (await call('GET', '/v1/admin/dead-letters', token)).json()) as {
    items: { id: string; submissionId: string; attempts: number; reason: string }[]
  }
  const letter = listed.items.find((d) => d.submissionId === id)
  expect(letter).toMatchObject({ attempts: 4, reason: 'provider_unavailable' })

  await fetch(`${fake}/_control`, { method: 'POST', body: JSON.stringify({ default: 'ok' }) }) // the provider is back
  const requeued = await call('POST', `/v1/admin/dead-letters/${letter!.id}/requeue`, token)
  expect(requeued.status).toBe(200)
  await waitFor(
    'the re-queued submission to complete',
    async () => ((await statusOf(id)) === 'completed' ? true : undefined),
    60_000,
    services,
  )
  const grades = await sql<{ origin: string; provider: string }[]>`select origin, provider from grades where submission_id = ${id}`
  expect([...grades]).toEqual([{ origin: 'provider', provider: 'openai' }])

  const metrics = await (await call('GET', '/metrics')).text()
  expect(metrics).toContain('grader_breaker_state{provider="openai"} 0')
  expect(metrics).toContain('grader_provider_calls_total{provider="openai",outcome="failure"} 4')
  expect(metrics).toContain('grader_provider_calls_total{provider="openai",outcome="success"} 1')
}, 150_000)
