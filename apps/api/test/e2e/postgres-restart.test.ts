/**
 * PostgreSQL restarts under a running stack (its own throw-away cluster: the machine's is never
 * touched). Afterwards the same API and worker processes carry on: the API answers 503 (never
 * 500) while the database is away, a live SSE stream opened before the restart keeps delivering
 * (the LISTEN connection comes back), and a new essay is graded once.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres'
import { waitFor, type Service } from '../support/processes'
import { startTestRedis, type TestRedis } from '../support/redis-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../support/stack'

let pg: PrivatePostgres
let redis: TestRedis
let keyDir: string
let api: string
const services: Service[] = []

beforeAll(async () => {
  pg = startPrivatePostgres()
  const admin = postgres(pg.adminUrl(), { max: 1, onnotice: () => {} })
  await admin`create database vstep`
  await admin.end()
  redis = await startTestRedis()
  keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  const env = { DATABASE_URL: pg.adminUrl('vstep'), REDIS_URL: redis.url }
  api = await startApiProcess(services, { env: { ...env, SSE_HEARTBEAT_MS: '500' }, keyDir })
  seedDatabase(env)
  startWorkerProcess(services, { env: { ...env, GRADER_SPOT_CHECK_SHARE: '0' } })
}, 60_000)

afterAll(async () => {
  for (const service of services) await service.stop()
  await redis?.dispose()
  pg?.dispose()
  if (keyDir) rmSync(keyDir, { recursive: true, force: true })
})

const ESSAY = `Many people believe that working from home is the future of office work. In my opinion, it brings clear advantages, although it also creates some problems that companies must solve.

Firstly, employees save the time and money they used to spend on travelling. Furthermore, many of them can concentrate better at home, which often improves the quality of their work.

However, working alone can make people feel isolated, and new employees may find it difficult to learn from their colleagues. Therefore, companies should organise regular meetings in the office.

In conclusion, working from home is a positive change, as long as employers support their staff and keep some time for face-to-face cooperation.`

const json = (body: unknown, token?: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
})

/** Reads `status` events of an SSE response into `seen`, until aborted. */
function collect(res: Response, seen: { submissionId: string; to: string }[]): Promise<void> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  return (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }))
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = frame.split('\n').find((l) => l.startsWith('data: {"id"'))
        if (frame.includes('event: status') && data) seen.push(JSON.parse(data.slice(6)))
      }
    }
  })()
}

test('after a PostgreSQL restart the same API and worker carry on, and the live stream keeps delivering', async () => {
  const email = `pg-${crypto.randomUUID()}@example.test`
  expect((await fetch(`${api}/v1/auth/register`, json({ email, password: 'a long enough password', displayName: 'PG' }))).status).toBe(201)
  const { accessToken } = (await (await fetch(`${api}/v1/auth/login`, json({ email, password: 'a long enough password' }))).json()) as {
    accessToken: string
  }
  const tasks = (await (await fetch(`${api}/v1/tasks`)).json()) as { items: { id: string; part: string }[] }
  const taskId = tasks.items.find((t) => t.part === 'writing_task_2')!.id

  const abort = new AbortController()
  const stream = await fetch(`${api}/v1/events`, { headers: { authorization: `Bearer ${accessToken}` }, signal: abort.signal })
  const seen: { submissionId: string; to: string }[] = []
  const reading = collect(stream, seen)
  const completedSeen = (id: string) =>
    waitFor(
      `completed for ${id} on the stream`,
      async () => (seen.some((e) => e.submissionId === id && e.to === 'completed') ? true : undefined),
      30_000,
      services,
    )

  const before = (await (await fetch(`${api}/v1/submissions`, json({ taskId, answerText: ESSAY }, accessToken))).json()) as { id: string }
  await completedSeen(before.id)

  pg.restart()

  // While connections are re-made, a request may fail: as a 503 to retry, never a 500.
  const statuses: number[] = []
  const after = await waitFor(
    'a submission accepted after the restart',
    async () => {
      const res = await fetch(`${api}/v1/submissions`, json({ taskId, answerText: ESSAY }, accessToken))
      statuses.push(res.status)
      return res.status === 202 ? ((await res.json()) as { id: string }) : undefined
    },
    30_000,
    services,
  )
  expect(statuses.filter((s) => s !== 503 && s !== 202)).toEqual([])
  await completedSeen(after.id)
  abort.abort()
  await reading

  expect(seen.filter((e) => e.submissionId === after.id).map((e) => e.to)).toEqual(['pending', 'processing', 'completed'])
  const sql = postgres(pg.adminUrl('vstep'), { max: 1, onnotice: () => {} })
  try {
    const [row] = await sql`select count(*)::int as n from grades where submission_id = ${after.id}`
    expect(row!.n).toBe(1)
  } finally {
    await sql.end()
  }
}, 90_000)

test('while PostgreSQL is down the API answers 503 problems with Retry-After, and recovers when it is back', async () => {
  const email = `down-${crypto.randomUUID()}@example.test`
  await fetch(`${api}/v1/auth/register`, json({ email, password: 'a long enough password', displayName: 'Down' }))
  const { accessToken } = (await (await fetch(`${api}/v1/auth/login`, json({ email, password: 'a long enough password' }))).json()) as {
    accessToken: string
  }
  pg.stop()
  try {
    const res = await fetch(`${api}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })
    expect(res.status).toBe(503)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('retry-after')).toBe('1')
    expect((await fetch(`${api}/readyz`)).status).toBe(503)
    expect((await fetch(`${api}/healthz`)).status).toBe(200)
  } finally {
    pg.start()
  }
  await waitFor('the API to be ready again', async () => ((await fetch(`${api}/readyz`)).ok ? true : undefined), 30_000, services)
  expect((await fetch(`${api}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200)
}, 60_000)
