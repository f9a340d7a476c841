/**
 * Soak (issue 14): mixed traffic for a long stretch against real processes (the API as
 * `bun src/index.ts`, one grading worker as `python -m grader`, a private PostgreSQL database and
 * redis-server), sampling what would show a leak: the API's and the worker's RSS and open file
 * descriptors, PostgreSQL connections (the API's postgres.js pool, its LISTEN connection and the
 * worker's asyncpg pool), Redis clients, live SSE streams and the queue. Reports the growth from the
 * end of the warm-up to the end, in bench/results/soak.{json,md} (docs/benchmarks.md includes the .md).
 *
 * Traffic per virtual user, in a loop: log in (every 25th round, so sessions and refreshes churn),
 * read the catalogue, /v1/me and its submission list, submit an essay every 4th round and follow it
 * over SSE until it is graded, and keep one /v1/events stream that it drops and reopens every 10th round.
 *
 * Usage: bun bench/soak.ts [--minutes 10] [--users 12] [--sample-seconds 10] [--warmup-seconds 60]
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { createTestDatabase } from '@vstep/db/testing'
import { type Service, waitFor } from '../apps/api/test/support/processes'
import { freePort, startTestRedis } from '../apps/api/test/support/redis-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../apps/api/test/support/stack'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    users: { type: 'string', default: '12' },
    'sample-seconds': { type: 'string', default: '10' },
    'warmup-seconds': { type: 'string', default: '60' },
  },
})
const DURATION_MS = Number(values.minutes) * 60_000
const USERS = Number(values.users)
const SAMPLE_MS = Number(values['sample-seconds']) * 1000
const WARMUP_MS = Math.min(Number(values['warmup-seconds']) * 1000, DURATION_MS / 4)
const METRICS_TOKEN = 'soak-metrics-token-0123456789'
const ANSWER =
  'Many people believe that technology has changed the way we learn. In my opinion, online courses give students more freedom, ' +
  'because they can study at their own pace and review difficult lessons. However, teachers are still important, since they ' +
  'motivate learners and answer their questions. In conclusion, the best approach combines both ways of learning.'

type Sample = {
  atS: number
  apiRssMb: number
  apiFds: number
  workerRssMb: number
  workerFds: number
  pgConnections: number
  pgByApp: Record<string, number>
  redisClients: number
  sseStreams: number
  queueDepth: number
  requests: number
  submissions: number
}

/** RSS (MiB) and open fds of a process, from /proc. */
function procStats(pid: number): { rssMb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKb = Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? Number.NaN)
  return { rssMb: rssKb / 1024, fds: readdirSync(`/proc/${pid}/fd`).length }
}
/** One unlabelled sample from Prometheus text (the soak only reads a few plain gauges). */
const gauge = (text: string, name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? Number.NaN)

async function main() {
  const database = await createTestDatabase({ migrate: false })
  const redis = await startTestRedis()
  const keyDir = mkdtempSync(join(tmpdir(), 'vstep-soak-keys-'))
  const services: Service[] = []
  const admin = postgres(database.url, { max: 1, onnotice: () => {} })
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    for (const service of services.reverse()) await service.stop()
    await admin.end()
    await redis.dispose()
    await database.drop()
    rmSync(keyDir, { recursive: true, force: true })
  }
  // Ctrl-C still removes the database, the redis-server and the processes.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().finally(() => process.exit(130)))
  try {
    const env = { DATABASE_URL: database.url, REDIS_URL: redis.url, LOG_LEVEL: 'warn' }
    const api = await startApiProcess(services, {
      keyDir,
      env: {
        ...env,
        METRICS_TOKEN,
        RATE_LIMIT_SUBMISSIONS: '100000',
        RATE_LIMIT_LOGIN: '100000',
        RATE_LIMIT_LOGIN_ACCOUNT: '100000',
        RATE_LIMIT_LOGIN_IP: '1000000',
        RATE_LIMIT_REGISTER: '100000',
      },
    })
    const apiService = services.at(-1)!
    seedDatabase(env)
    const workerMetricsPort = freePort()
    startWorkerProcess(services, {
      env: { ...env, GRADER_SPOT_CHECK_SHARE: '0', WORKER_METRICS_PORT: String(workerMetricsPort), WORKER_METRICS_HOST: '127.0.0.1' },
    })
    const workerMetrics = `http://127.0.0.1:${workerMetricsPort}/metrics`
    await waitFor(
      'the worker metrics port',
      async () => ((await fetch(workerMetrics).catch(() => null))?.ok ? true : undefined),
      60_000,
      services,
    )

    const json = async (res: Response) => (await res.json()) as Record<string, unknown>
    const call = (method: string, path: string, token?: string, body?: unknown) =>
      fetch(`${api}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      })
    const tasks = (await json(await call('GET', '/v1/tasks?skill=writing'))) as unknown as { items: { id: string; skill: string }[] }
    const taskId = tasks.items.find((t) => t.skill === 'writing')!.id

    let requests = 0
    let submitted = 0
    let failures = 0
    const failed: Record<string, number> = {}
    const deadline = Date.now() + DURATION_MS
    const count = async (what: string, p: Promise<Response>) => {
      const res = await p
      requests++
      if (res.status >= 400) {
        failures++
        failed[`${what} ${res.status}`] = (failed[`${what} ${res.status}`] ?? 0) + 1
      }
      return res
    }
    /** Reads an SSE response until `until` matches or the stream ends; then drops it. */
    const follow = async (res: Response, until: RegExp, abort: AbortController) => {
      const reader = res.body!.getReader()
      const decoder = new TextDecoder()
      let text = ''
      try {
        while (!until.test(text)) {
          const { value, done } = await reader.read()
          if (done) break
          text += decoder.decode(value, { stream: true })
          if (text.length > 100_000) text = text.slice(-10_000)
        }
      } finally {
        abort.abort()
        await reader.cancel().catch(() => {})
      }
    }

    // Accounts first, one at a time: password hashing is bounded per client address (429 beyond).
    const password = 'correct horse battery staple'
    const emails: string[] = []
    for (let n = 0; n < USERS; n++) {
      const email = `soak-${n}-${crypto.randomUUID()}@example.test`
      const res = await call('POST', '/v1/auth/register', undefined, { email, password, displayName: `Soak ${n}` })
      if (res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`)
      emails.push(email)
    }
    const user = async (n: number) => {
      const email = emails[n]!
      let token = ''
      let events: AbortController | null = null
      for (let round = 0; Date.now() < deadline; round++) {
        if (round % 25 === 0) {
          const login = await count('login', call('POST', '/v1/auth/login', undefined, { email, password }))
          if (login.status !== 200) {
            // Login shares the per-address hashing budget with the other users: try again next round.
            await login.arrayBuffer()
            round = -1
            await Bun.sleep(200) // pacing of a load generator, not a synchronisation
            continue
          }
          token = String((await json(login)).accessToken)
        }
        if (round % 10 === 0) {
          events?.abort()
          const abort = new AbortController()
          events = abort
          const stream = await count(
            'events',
            fetch(`${api}/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal }),
          )
          void follow(stream, /event: never/, abort).catch(() => {})
        }
        await (await count('tasks', call('GET', '/v1/tasks', token))).arrayBuffer()
        await (await count('me', call('GET', '/v1/me', token))).arrayBuffer()
        await (await count('list', call('GET', '/v1/submissions', token))).arrayBuffer()
        if (round % 4 === 0) {
          const created = await count(
            'submit',
            call('POST', '/v1/submissions', token, { taskId, answerText: `${ANSWER} Round ${round} of user ${n}.` }),
          )
          if (created.status !== 202) continue
          const { id } = (await json(created)) as { id: string }
          submitted++
          const abort = new AbortController()
          const stream = await count(
            'follow',
            fetch(`${api}/v1/submissions/${id}/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal }),
          )
          // The submission stream ends by itself at a final state; a review_pending one is left after it shows.
          await follow(stream, /"to":"(completed|review_pending|failed)"/, abort)
        }
      }
      events?.abort()
    }

    const samples: Sample[] = []
    const started = Date.now()
    const sample = async (): Promise<Sample> => {
      const apiStats = procStats(apiService.proc.pid)
      const apiText = await (await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text()
      const workerText = await (await fetch(workerMetrics)).text()
      const pg = await admin<{ app: string; n: number }[]>`
        select coalesce(nullif(application_name, ''), 'unnamed') as app, count(*)::int as n
          from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() group by 1`
      const info = Bun.spawnSync(['redis-cli', '-u', redis.url, 'info', 'clients']).stdout.toString()
      const s: Sample = {
        atS: Math.round((Date.now() - started) / 1000),
        apiRssMb: Math.round(apiStats.rssMb * 10) / 10,
        apiFds: apiStats.fds,
        workerRssMb: Math.round((gauge(workerText, 'process_resident_memory_bytes') / 2 ** 20) * 10) / 10,
        workerFds: gauge(workerText, 'process_open_fds'),
        pgConnections: pg.reduce((n, r) => n + r.n, 0),
        pgByApp: Object.fromEntries(pg.map((r) => [r.app, r.n])),
        redisClients: Number(info.match(/connected_clients:(\d+)/)?.[1] ?? Number.NaN),
        sseStreams: gauge(apiText, 'vstep_sse_subscribers'),
        queueDepth: gauge(apiText, 'vstep_queue_depth'),
        requests,
        submissions: submitted,
      }
      samples.push(s)
      if (failures) console.log('failed so far:', JSON.stringify(failed))
      console.log(JSON.stringify(s))
      return s
    }
    await sample()
    const sampler = setInterval(() => void sample().catch((error) => console.error('sample failed:', error)), SAMPLE_MS)
    await Promise.all(Array.from({ length: USERS }, (_, n) => user(n)))
    clearInterval(sampler)
    // Quiet again: every submission graded, streams closed; then the last sample.
    await waitFor(
      'the queue to drain',
      async () =>
        Number(
          (await admin<{ n: number }[]>`select count(*)::int as n from submissions where status in ('pending', 'processing')`)[0]!.n,
        ) === 0
          ? true
          : undefined,
      120_000,
      services,
    )
    const last = await sample()
    const warm = samples.find((s) => s.atS * 1000 >= WARMUP_MS) ?? samples[0]!
    const peak = (k: keyof Sample) => Math.max(...samples.map((s) => Number(s[k])))
    const growth = {
      apiRssMb: Math.round((last.apiRssMb - warm.apiRssMb) * 10) / 10,
      apiFds: last.apiFds - warm.apiFds,
      workerRssMb: Math.round((last.workerRssMb - warm.workerRssMb) * 10) / 10,
      workerFds: last.workerFds - warm.workerFds,
      pgConnections: last.pgConnections - warm.pgConnections,
      redisClients: last.redisClients - warm.redisClients,
    }
    const result = {
      minutes: DURATION_MS / 60_000,
      users: USERS,
      requests,
      failures,
      failed,
      submissions: submitted,
      warmupAtS: warm.atS,
      warm,
      last,
      peak: {
        apiRssMb: peak('apiRssMb'),
        apiFds: peak('apiFds'),
        workerRssMb: peak('workerRssMb'),
        pgConnections: peak('pgConnections'),
        sseStreams: peak('sseStreams'),
      },
      growth,
      samples,
    }
    const dir = join(import.meta.dir, 'results')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'soak.json'), `${JSON.stringify({ at: new Date().toISOString(), result }, null, 2)}\n`)
    const row = (name: string, w: number | string, p: number | string, l: number | string, g: number | string) =>
      `| ${name} | ${w} | ${p} | ${l} | ${g} |`
    const md = [
      '## Soak: mixed traffic over time',
      '',
      `\`bun bench/soak.ts --minutes ${DURATION_MS / 60_000} --users ${USERS}\`: ${USERS} virtual users log in, read, submit essays and follow them over SSE, and hold a /v1/events stream they reopen every 10 rounds, against one API process and one worker (offline scorer). ${requests.toLocaleString('en-US')} requests, ${failures} failed, ${submitted} essays graded. Sampled every ${SAMPLE_MS / 1000} s; growth is from the end of the warm-up (${warm.atS} s) to the end (after the queue drained).`,
      '',
      '| measure | after warm-up | peak | end | growth |',
      '|---|---|---|---|---|',
      row('API RSS (MiB)', warm.apiRssMb, peak('apiRssMb'), last.apiRssMb, growth.apiRssMb),
      row('API open fds', warm.apiFds, peak('apiFds'), last.apiFds, growth.apiFds),
      row('worker RSS (MiB)', warm.workerRssMb, peak('workerRssMb'), last.workerRssMb, growth.workerRssMb),
      row('worker open fds', warm.workerFds, peak('workerFds'), last.workerFds, growth.workerFds),
      row('PostgreSQL connections', warm.pgConnections, peak('pgConnections'), last.pgConnections, growth.pgConnections),
      row('Redis clients', warm.redisClients, peak('redisClients'), last.redisClients, growth.redisClients),
      row('SSE streams (API)', warm.sseStreams, peak('sseStreams'), last.sseStreams, '—'),
      '',
      `PostgreSQL connections by application at the end: ${Object.entries(last.pgByApp)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
      '',
    ].join('\n')
    writeFileSync(join(dir, 'soak.md'), md)
    console.log(md)
  } finally {
    await stop()
  }
}

await main()
