/**
 * The scenarios of issue 13, each against its floor measured in the same run (docs/benchmarks.md):
 * http (GET /v1/me, /v1/tasks vs a bare route with the same bytes), intake (POST /v1/submissions vs
 * a bare INSERT + Lua enqueue loop), pipeline (steady 50/s, submit → SSE `completed`), sse (fan-out
 * to 10,000 subscribers), flood (200 concurrent logins while reads continue), scaling (1/2/4 workers)
 * and catalog (10 → 10,000 tasks). Every API and worker is a real process on a private database and
 * redis-server.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RedisClient } from 'bun'
import postgres from 'postgres'
import { enqueueJob } from '../apps/api/src/queue/arq'
import { waitFor, type Service } from '../apps/api/test/support/processes'
import { startTestRedis } from '../apps/api/test/support/redis-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../apps/api/test/support/stack'
import { createTestDatabase } from '@vstep/db/testing'
import { cpuSecondsOfTree, percentile, readSse, round, rssOf, startBareServer, wrk } from './lib'

export const ESSAY = `Many companies now let their staff work from home for part of the week. In my opinion, this change brings more benefits than problems.

Firstly, working from home saves time and money. Employees who do not travel every morning can start earlier and feel less tired. Furthermore, companies can rent smaller offices.

However, some people argue that teamwork suffers when colleagues rarely meet. For example, new employees may find it difficult to learn from experienced staff.

In conclusion, flexible working is a positive development, as long as companies support their employees properly.`

/** Limits that would refuse a benchmark's load (they are tested elsewhere); everything else is default. */
const UNLIMITED = {
  RATE_LIMIT_READ_ANONYMOUS: '100000000',
  RATE_LIMIT_READ_LEARNER: '100000000',
  RATE_LIMIT_READ_STAFF: '100000000',
  RATE_LIMIT_SUBMISSIONS: '100000000',
  RATE_LIMIT_LOGIN: '100000000',
  RATE_LIMIT_LOGIN_ACCOUNT: '100000000',
  RATE_LIMIT_LOGIN_IP_FAILURES: '100000000',
  RATE_LIMIT_LOGIN_IP: '100000000',
  RATE_LIMIT_REGISTER: '100000000',
  LOG_LEVEL: 'warn',
}

export type Stack = {
  api: string
  apiService: Service
  databaseUrl: string
  redisUrl: string
  services: Service[]
  addWorkers: (n: number, env?: Record<string, string>) => Promise<void>
  stop: () => Promise<void>
}

/** A private database + redis-server, seeded, with one API process. */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const database = await createTestDatabase()
  const redis = await startTestRedis()
  const keyDir = mkdtempSync(join(tmpdir(), 'vstep-bench-keys-'))
  const services: Service[] = []
  const base = { DATABASE_URL: database.url, REDIS_URL: redis.url }
  seedDatabase(base)
  const api = await startApiProcess(services, { env: { ...base, ...UNLIMITED, ...env }, keyDir })
  const apiService = services[0]!
  let workers = 0
  return {
    api,
    apiService,
    databaseUrl: database.url,
    redisUrl: redis.url,
    services,
    addWorkers: async (n, workerEnv = {}) => {
      const probe = new RedisClient(redis.url)
      await probe.send('DEL', ['arq:queue:health-check'])
      for (let i = 0; i < n; i++) startWorkerProcess(services, { env: { ...base, ...workerEnv }, name: `worker-${workers++}` })
      // Measure grading, not interpreter start-up: wait until a worker has polled (arq writes its health key).
      await waitFor('a worker to poll', async () => ((await probe.get('arq:queue:health-check')) ? true : undefined), 60_000, services)
      probe.close()
    },
    stop: async () => {
      for (const s of services) await s.stop()
      await redis.dispose()
      await database.drop()
      rmSync(keyDir, { recursive: true, force: true })
    },
  }
}

const post = (api: string, path: string, body: unknown, token?: string) =>
  fetch(`${api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })

export async function learner(
  api: string,
  email = `bench-${crypto.randomUUID()}@example.test`,
): Promise<{ token: string; email: string; password: string }> {
  const password = 'bench password 123'
  await post(api, '/v1/auth/register', { email, password, displayName: 'Bench' })
  const login = await post(api, '/v1/auth/login', { email, password })
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`)
  return { token: ((await login.json()) as { accessToken: string }).accessToken, email, password }
}

async function writingTask(api: string): Promise<string> {
  const tasks = (await (await fetch(`${api}/v1/tasks`)).json()) as { items: { id: string; part: string }[] }
  return tasks.items.find((t) => t.part === 'writing_task_2')!.id
}

const ratioOf = (value: number, floor: number) => round(value / floor, 3)

/** 1. GET /v1/me and GET /v1/tasks against a bare Elysia route serving the same bytes. */
export async function benchHttp(seconds: number) {
  const stack = await startStack()
  try {
    const { token } = await learner(stack.api)
    const auth = { authorization: `Bearer ${token}` }
    const meBytes = await (await fetch(`${stack.api}/v1/me`, { headers: auth })).text()
    const tasksBytes = await (await fetch(`${stack.api}/v1/tasks`)).text()
    const bare = await startBareServer({ '/me': meBytes, '/tasks': tasksBytes })
    try {
      const run = (url: string, headers: Record<string, string> = {}) => wrk(url, { seconds, headers })
      const floorMe = run(`${bare.url}/me`, auth)
      const me = run(`${stack.api}/v1/me`, auth)
      const floorTasks = run(`${bare.url}/tasks`)
      const tasks = run(`${stack.api}/v1/tasks`)
      const tasksAuthed = run(`${stack.api}/v1/tasks`, auth)
      return {
        connections: 64,
        seconds,
        bytes: { me: meBytes.length, tasks: tasksBytes.length },
        me: { ...me, floor: floorMe, ratio: ratioOf(me.rps, floorMe.rps), target: 0.3 },
        tasks: { ...tasks, floor: floorTasks, ratio: ratioOf(tasks.rps, floorTasks.rps), target: 0.6 },
        tasksSignedIn: { ...tasksAuthed, floor: floorTasks, ratio: ratioOf(tasksAuthed.rps, floorTasks.rps) },
      }
    } finally {
      bare.stop()
    }
  } finally {
    await stack.stop()
  }
}

/** 2. Submission intake against a bare loop doing the same INSERT and Lua enqueue, same drivers, same concurrency. */
export async function benchIntake(seconds: number, concurrency = 32) {
  const stack = await startStack()
  try {
    const { token } = await learner(stack.api)
    const taskId = await writingTask(stack.api)
    const body = JSON.stringify({ taskId, answerText: ESSAY })
    const api = wrk(`${stack.api}/v1/submissions`, {
      seconds,
      connections: concurrency,
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    })
    // The floor: the same row and the same enqueue, with postgres.js and Bun's Redis client, no HTTP/auth/validation.
    const sql = postgres(stack.databaseUrl, { max: 10, onnotice: () => {} })
    const redis = new RedisClient(stack.redisUrl)
    const [user] = await sql<{ id: string }[]>`select id from users limit 1`
    const latencies: number[] = []
    const until = performance.now() + seconds * 1000
    let done = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const t0 = performance.now()
          const [row] = await sql<{ id: string }[]>`
            insert into submissions (user_id, task_id, skill, status, grading_mode, answer_text, word_count, deadline_at)
            values (${user!.id}, ${taskId}, 'writing', 'pending', 'auto', ${ESSAY}, 96, now() + interval '10 minutes') returning id`
          await enqueueJob(redis, 'grade_submission', [], { submission_id: row!.id }, { jobId: row!.id })
          latencies.push(performance.now() - t0)
          done++
        }
      }),
    )
    const wall = (performance.now() - started) / 1000
    await sql.end()
    redis.close()
    const floor = {
      rps: round(done / wall),
      p50: round(percentile(latencies, 50), 2),
      p99: round(percentile(latencies, 99), 2),
      requests: done,
    }
    return { concurrency, seconds, api, floor, ratio: ratioOf(api.rps, floor.rps), target: 0.6 }
  } finally {
    await stack.stop()
  }
}

/**
 * Submits `count` essays at `perSecond`; each is timed from the start of its POST to its `completed`
 * event on its own SSE stream (`GET /v1/submissions/:id/events`, which replays what happened before
 * it opened, so nothing is missed between the POST and the subscription).
 */
export async function steadyPipeline(stack: Stack, count: number, perSecond: number) {
  const { token } = await learner(stack.api)
  const taskId = await writingTask(stack.api)
  const latencies: number[] = []
  const failures: string[] = []
  const headers = { authorization: `Bearer ${token}` }
  const cpu = () => ({
    api: cpuSecondsOfTree(stack.apiService.proc.pid),
    workers: stack.services.filter((s) => s.name.startsWith('worker')).reduce((n, s) => n + cpuSecondsOfTree(s.proc.pid), 0),
  })
  const cpuBefore = cpu()
  const started = performance.now()
  const runs: Promise<void>[] = []
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / perSecond
    const wait = due - performance.now()
    if (wait > 0) await Bun.sleep(wait)
    runs.push(
      (async () => {
        const t0 = performance.now()
        const res = await post(stack.api, '/v1/submissions', { taskId, answerText: ESSAY }, token)
        if (res.status !== 202) {
          failures.push(`POST ${res.status}`)
          return
        }
        const { id } = (await res.json()) as { id: string }
        const abort = new AbortController()
        const timer = setTimeout(() => abort.abort(), 60_000)
        const stream = await fetch(`${stack.api}/v1/submissions/${id}/events`, { headers, signal: abort.signal })
        if (!stream.ok) {
          failures.push(`stream ${stream.status}`)
          return
        }
        let done = false
        await readSse(stream.body!, (_event, data) => {
          if (data.includes('"to":"completed"')) {
            latencies.push(performance.now() - t0)
            done = true
            return true
          }
        }).catch(() => {})
        clearTimeout(timer)
        if (!done) failures.push('no completed event within 60 s')
      })(),
    )
  }
  await Promise.all(runs)
  const wall = (performance.now() - started) / 1000
  const cpuAfter = cpu()
  // Where the time goes, from the event rows' commit times: queue wait (created → processing) and grading (processing → completed).
  const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} })
  const [split] = await sql<{ wait50: number; wait99: number; grade50: number; grade99: number }[]>`
    with t as (
      select made.created_at as made, run.created_at as run, done.created_at as done
      from submission_events made
      join submission_events run on run.submission_id = made.submission_id and run.to_status = 'processing'
      join submission_events done on done.submission_id = made.submission_id and done.to_status = 'completed'
      where made.from_status is null)
    select percentile_cont(0.5) within group (order by extract(epoch from run - made)) * 1000 as wait50,
           percentile_cont(0.99) within group (order by extract(epoch from run - made)) * 1000 as wait99,
           percentile_cont(0.5) within group (order by extract(epoch from done - run)) * 1000 as grade50,
           percentile_cont(0.99) within group (order by extract(epoch from done - run)) * 1000 as grade99
    from t`
  await sql.end()
  return {
    wallSeconds: round(wall),
    apiCpuSeconds: round(cpuAfter.api - cpuBefore.api, 2),
    workerCpuSeconds: round(cpuAfter.workers - cpuBefore.workers, 2),
    workerCpuMsPerJob: round(((cpuAfter.workers - cpuBefore.workers) * 1000) / count, 2),
    queueWaitP50: round(Number(split!.wait50)),
    queueWaitP99: round(Number(split!.wait99)),
    gradingP50: round(Number(split!.grade50)),
    gradingP99: round(Number(split!.grade99)),
    submissions: count,
    offeredPerSecond: perSecond,
    completed: latencies.length,
    failures: failures.length,
    completedPerSecond: round(latencies.length / wall),
    p50: round(percentile(latencies, 50)),
    p95: round(percentile(latencies, 95)),
    p99: round(percentile(latencies, 99)),
    max: round(Math.max(...latencies)),
  }
}

/** Raw arq: no-op jobs through a worker with the grader's settings (bench/arq_noop.py, via uv in the worker's environment). */
function arqNoop_(redisUrl: string, jobs: number, pollDelay: number, inWorker: (args: string[], env?: Record<string, string>) => string) {
  const out = inWorker(['python', join(import.meta.dir, 'arq_noop.py'), redisUrl, String(jobs), String(pollDelay)])
  return JSON.parse(out.trim().split('\n').at(-1)!) as {
    jobs: number
    poll_delay: number
    jobs_per_second: number
    single_job_latency_p50_ms: number
    single_job_latency_p99_ms: number
  }
}

/** 3. The grading pipeline at a steady 50 submissions/s with one worker, at two poll delays, beside arq's raw no-op rate. */
export async function benchPipeline(seconds: number, inWorker: (args: string[]) => string) {
  const byPollDelay = []
  let arqNoop: ReturnType<typeof arqNoop_>[] = []
  for (const [poll, runSeconds] of [
    ['0.2', Math.ceil(seconds / 2)],
    ['0.05', seconds],
  ] as const) {
    const stack = await startStack({ SSE_MAX_STREAMS_PER_USER: '1000' })
    try {
      await stack.addWorkers(1, {
        WORKER_POLL_DELAY_SECONDS: poll,
        ...(process.env.BENCH_MAX_JOBS ? { WORKER_MAX_JOBS: process.env.BENCH_MAX_JOBS } : {}),
      })
      byPollDelay.push({ pollDelay: Number(poll), ...(await steadyPipeline(stack, 50 * runSeconds, 50)) })
      if (poll === '0.05') arqNoop = [0.2, 0.05, 0.01].map((p) => arqNoop_(stack.redisUrl, 500, p, inWorker))
    } finally {
      await stack.stop()
    }
  }
  const steady = byPollDelay.at(-1)!
  return { workers: 1, pollDelay: steady.pollDelay, steady, byPollDelay, target: { p50: 150, p99: 500 }, arqNoop }
}

/** 6a. Throughput of a burst with 1, 2 and 4 worker processes (each its own stack). */
export async function benchScaling(burst: number) {
  const rows = []
  for (const workers of [1, 2, 4]) {
    const stack = await startStack()
    try {
      await stack.addWorkers(workers)
      const { token } = await learner(stack.api)
      const taskId = await writingTask(stack.api)
      const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} })
      const started = performance.now()
      for (let i = 0; i < burst; i += 20) {
        await Promise.all(
          Array.from({ length: Math.min(20, burst - i) }, () => post(stack.api, '/v1/submissions', { taskId, answerText: ESSAY }, token)),
        )
      }
      await waitFor(
        'the burst completed',
        async () => {
          const [row] = await sql`select count(*)::int as n from submissions where status = 'completed'`
          return row!.n === burst ? true : undefined
        },
        300_000,
        stack.services,
      )
      const wall = (performance.now() - started) / 1000
      await sql.end()
      rows.push({ workers, submissions: burst, completedPerSecond: round(burst / wall), perWorker: round(burst / wall / workers) })
    } finally {
      await stack.stop()
    }
  }
  return rows
}

/** 4. SSE fan-out: `subscribers` streams on one API process, RSS per stream, one commit → every subscriber. */
export async function benchSse(subscribers: number) {
  const perUser = 500
  const users = Math.ceil(subscribers / perUser)
  const stack = await startStack({ SSE_MAX_STREAMS_PER_USER: String(perUser), SSE_HEARTBEAT_MS: '15000' })
  const abort = new AbortController()
  try {
    const accounts: { token: string }[] = []
    for (let i = 0; i < users; i++) accounts.push(await learner(stack.api))
    const taskId = await writingTask(stack.api)
    // One pending submission per user (no worker runs): the broadcast moves all of them to processing in one commit.
    const ids: string[] = []
    for (const a of accounts) {
      const res = await post(stack.api, '/v1/submissions', { taskId, answerText: ESSAY }, a.token)
      ids.push(((await res.json()) as { id: string }).id)
    }
    const pid = stack.apiService.proc.pid
    const rssBefore = await rssOf(pid)
    let opened = 0
    let failed = 0
    const received: number[] = []
    const armed = { at: 0 }
    const readers: Promise<void>[] = []
    const openStarted = performance.now()
    for (let i = 0; i < subscribers; i += 250) {
      await Promise.all(
        Array.from({ length: Math.min(250, subscribers - i) }, async (_, j) => {
          const account = accounts[Math.floor((i + j) / perUser)]!
          const res = await fetch(`${stack.api}/v1/events`, {
            headers: { authorization: `Bearer ${account.token}` },
            signal: abort.signal,
          }).catch(() => null)
          if (!res?.ok) {
            failed++
            return
          }
          opened++
          readers.push(
            // The stream stays open after the event (closed by the abort at the end): closing 10,000
            // streams while the broadcast is still being written would time the teardown too.
            readSse(res.body!, (_event, data) => {
              if (armed.at && data.includes('"to":"processing"')) received.push(performance.now() - armed.at)
            }).catch(() => {}),
          )
        }),
      )
    }
    const openSeconds = (performance.now() - openStarted) / 1000
    await Bun.sleep(2_000) // let the open streams settle before reading memory
    const rssAfter = await rssOf(pid)
    const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} })
    armed.at = performance.now()
    await sql`update submissions set status = 'processing' where id in ${sql(ids)}`
    const deadline = performance.now() + 60_000
    while (received.length < opened && performance.now() < deadline) await Bun.sleep(20)
    await sql.end()
    return {
      requested: subscribers,
      opened,
      failed,
      users,
      openSeconds: round(openSeconds),
      rssBeforeMiB: round(rssBefore / 2 ** 20),
      rssAfterMiB: round(rssAfter / 2 ** 20),
      rssPerStreamKiB: round((rssAfter - rssBefore) / Math.max(1, opened) / 1024, 2),
      delivered: received.length,
      broadcastP50: round(percentile(received, 50)),
      broadcastP99: round(percentile(received, 99)),
      broadcastMax: round(Math.max(...received)),
      target: { rssGiB: 1.5, p99: 250 },
    }
  } finally {
    abort.abort()
    await stack.stop()
  }
}

/** 5. 200 concurrent logins (production Argon2 cost) while wrk reads GET /v1/me; read p99 against its unloaded value. */
export async function benchFlood(seconds: number) {
  const stack = await startStack({ ARGON2_MEMORY_KIB: '65536', ARGON2_TIME_COST: '2' })
  try {
    const reader = await learner(stack.api)
    const flooder = await learner(stack.api)
    const read = () => wrk(`${stack.api}/v1/me`, { seconds, connections: 16, headers: { authorization: `Bearer ${reader.token}` } })
    const unloaded = read()
    const statuses = new Map<number, number>()
    let stop = false
    const loginLatencies: number[] = []
    const flood = Promise.all(
      Array.from({ length: 200 }, async () => {
        while (!stop) {
          const t0 = performance.now()
          const res = await post(stack.api, '/v1/auth/login', { email: flooder.email, password: flooder.password })
          await res.arrayBuffer()
          loginLatencies.push(performance.now() - t0)
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
          if (res.status !== 200) await Bun.sleep(Number(res.headers.get('retry-after') ?? '1') * 100)
        }
      }),
    )
    await Bun.sleep(1_000) // the flood is running before the reads start
    const loaded = read()
    stop = true
    await flood
    return {
      logins: Object.fromEntries(statuses),
      loginP50: round(percentile(loginLatencies, 50)),
      loginP99: round(percentile(loginLatencies, 99)),
      unloaded,
      loaded,
      ratio: round(loaded.p99 / unloaded.p99, 2),
      target: 3,
    }
  } finally {
    await stack.stop()
  }
}

/** 6b. GET /v1/tasks with 10, 100, 1,000 and 10,000 tasks in the catalogue, beside the bare route with the same bytes. */
export async function benchCatalog(seconds: number) {
  const stack = await startStack()
  try {
    const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} })
    const redis = new RedisClient(stack.redisUrl)
    const rows = []
    for (const size of [10, 100, 1_000, 10_000]) {
      const [have] = await sql<{ n: number }[]>`select count(*)::int as n from tasks`
      const missing = size - have!.n
      if (missing > 0) {
        await sql`
          insert into tasks (slug, skill, part, title, prompt, min_words, time_limit_minutes)
          select 'bench-' || g || '-' || md5(random()::text), 'writing', 'writing_task_2', 'Bench task ' || g,
                 'Some people think that ' || g || ' is a good idea. Discuss both views and give your opinion.', 250, 40
          from generate_series(1, ${missing}) g`
      } else if (missing < 0) {
        await sql`delete from tasks where id in (select id from tasks where slug like 'bench-%' limit ${-missing})`
      }
      // A write through SQL bypasses the API: invalidate as the API's writes do (version bump + publish).
      await redis.send('INCR', ['catalog:version'])
      await redis.send('PUBLISH', ['catalog:changes', 'changed'])
      // The API hears the change a moment later: wait until it serves this size, or the floor would
      // serve the previous body (a 1,000-task run once measured the floor with the 100-task bytes).
      const [now] = await sql<{ n: number }[]>`select count(*)::int as n from tasks`
      const bytes = await waitFor(
        `the API to serve ${now!.n} tasks`,
        async () => {
          const text = await (await fetch(`${stack.api}/v1/tasks`)).text()
          return (JSON.parse(text) as { items: unknown[] }).items.length === now!.n ? text : undefined
        },
        10_000,
        stack.services,
      )
      const bare = await startBareServer({ '/tasks': bytes })
      try {
        const floor = wrk(`${bare.url}/tasks`, { seconds })
        const api = wrk(`${stack.api}/v1/tasks`, { seconds })
        rows.push({ tasks: size, bytes: bytes.length, api, floor, ratio: ratioOf(api.rps, floor.rps) })
      } finally {
        bare.stop()
      }
    }
    await sql.end()
    redis.close()
    return rows
  } finally {
    await stack.stop()
  }
}
