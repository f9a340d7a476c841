/**
 * The fault suite's stack and traffic (issue 14): a private PostgreSQL cluster and Redis, two API
 * processes behind nginx (response buffering off, so SSE events pass at once), two grading workers
 * against the fake OpenAI-compatible provider, a steady stream of essays through the proxy, and an
 * SSE follower per accepted submission that reconnects (with Last-Event-ID, through the proxy) when
 * its stream ends or breaks. Each scenario injects one fault while the stream runs and then counts,
 * from PostgreSQL, what became of every accepted submission. Used by e2e/faults.test.ts (short
 * variants) and bench/faults.ts (long ones).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RedisClient } from 'bun'
import postgres from 'postgres'
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres'
import { startFakeProvider } from './fake-provider'
import { startService, waitFor, WORKER_DIR, type Service } from './processes'
import { freePort, startTestRedis, type TestRedis } from './redis-server'
import { seedDatabase, startApiProcess } from './stack'

const FINAL = new Set(['completed', 'failed', 'review_pending'])
const PYTHON = join(WORKER_DIR, '.venv/bin/python')

export type FaultStack = {
  proxy: string
  pg: PrivatePostgres
  redis: TestRedis
  sql: postgres.Sql
  apis: Service[]
  workers: (Service | null)[]
  services: Service[]
  startWorker: (slot: number) => void
  setProviderPattern: (pattern: string[]) => Promise<void>
  /** Counts after a warm-up (pools filled): what "back to baseline" is measured against. */
  baseline?: Sample
  dispose: () => Promise<void>
}

const essay = (
  n: number,
) => `Many people believe that working from home is the future of office work. In my opinion, it brings clear advantages, although it also creates some problems that companies must solve.

Firstly, employees save the time and money they used to spend on travelling. Furthermore, many of them can concentrate better at home, which often improves the quality of their work.

However, working alone can make people feel isolated, and new employees may find it difficult to learn from their colleagues. Therefore, companies should organise regular meetings in the office, for example team ${n}.

In conclusion, working from home is a positive change, as long as employers support their staff and keep some time for face-to-face cooperation.`

function nginxConfig(dir: string, port: number, upstreams: number[]): string {
  const root = process.getuid?.() === 0 ? 'user root;\n' : ''
  return `${root}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream api {
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=3s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 20m;
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # SSE: pass every event on at once, and keep quiet streams open (the API pings them).
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
      # An instance that refuses connections (stopped, restarting) is skipped; a request it
      # accepted is never sent twice (nginx does not retry non-idempotent requests).
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
    }
  }
}
`
}

export async function startFaultStack(options: { jobTimeoutS: number } = { jobTimeoutS: 6 }): Promise<FaultStack> {
  const services: Service[] = []
  const pg = startPrivatePostgres()
  const admin = postgres(pg.adminUrl(), { max: 1, onnotice: () => {} })
  await admin`create database vstep`
  await admin.end()
  const redis = await startTestRedis()
  const dir = mkdtempSync(join(tmpdir(), 'vstep-faults-'))
  const keyDir = join(dir, 'keys')
  mkdirSync(keyDir)
  const env = { DATABASE_URL: pg.adminUrl('vstep'), REDIS_URL: redis.url }

  const fake = startFakeProvider(services, { defaultBehaviour: 'ok', python: 'venv' })
  await fake.ready()

  const apiEnv = {
    ...env,
    SSE_HEARTBEAT_MS: '1000',
    SSE_MAX_STREAMS_PER_USER: '1000',
    RECONCILE_INTERVAL_MS: '1000',
    RECONCILE_PROCESSING_AFTER_SECONDS: String(options.jobTimeoutS + 12),
    RATE_LIMIT_SUBMISSIONS: '100000',
    RATE_LIMIT_LOGIN: '100000',
    RATE_LIMIT_LOGIN_IP: '100000',
    RATE_LIMIT_REGISTER: '100000',
    SHUTDOWN_GRACE_MS: '5000',
  }
  const apiUrls = [await startApiProcess(services, { env: apiEnv, keyDir, name: 'api-a' })]
  seedDatabase(env)
  apiUrls.push(await startApiProcess(services, { env: apiEnv, keyDir, name: 'api-b' }))
  const apis = services.filter((s) => s.name.startsWith('api-'))

  const workerEnv = {
    ...env,
    ...fake.workerEnv,
    GRADER_SPOT_CHECK_SHARE: '0',
    GRADER_RETRY_BASE_SECONDS: '0.2',
    GRADER_RETRY_MAX_SECONDS: '2',
    GRADER_BREAKER_OPEN_SECONDS: '2',
    WORKER_JOB_TIMEOUT_SECONDS: String(options.jobTimeoutS),
    WORKER_REDIS_OUTAGE_SECONDS: '120',
    WORKER_HEALTH_CHECK_INTERVAL_SECONDS: '2',
    WORKER_SHUTDOWN_GRACE_SECONDS: '5',
  }
  const workers: (Service | null)[] = [null, null]
  // The Python process itself (not `uv run`), so SIGKILL reaches the worker and nothing is orphaned.
  const startWorker = (slot: number) => {
    const w = startService(`worker-${slot}`, [PYTHON, '-m', 'grader'], { cwd: WORKER_DIR, env: workerEnv })
    workers[slot] = w
    services.push(w)
  }
  startWorker(0)
  startWorker(1)

  const proxyPort = freePort()
  writeFileSync(
    join(dir, 'nginx.conf'),
    nginxConfig(
      dir,
      proxyPort,
      apiUrls.map((u) => Number(new URL(u).port)),
    ),
  )
  const nginx = startService('nginx', ['nginx', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], {
    cwd: dir,
    env: {},
  })
  services.push(nginx)
  const proxy = `http://127.0.0.1:${proxyPort}`
  await waitFor('nginx', async () => ((await fetch(`${proxy}/readyz`).catch(() => null))?.ok ? true : undefined), 20_000, services)
  const sql = postgres(pg.adminUrl('vstep'), { max: 2, onnotice: () => {} })

  return {
    proxy,
    pg,
    redis,
    sql,
    apis,
    workers,
    services,
    startWorker,
    setProviderPattern: async (pattern) => {
      const res = await fetch(`${fake.url}/_control`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pattern }),
      })
      if (!res.ok) throw new Error(`fake provider control: ${res.status}`)
    },
    dispose: async () => {
      for (const s of [...services].reverse()) await s.stop()
      await sql.end({ timeout: 1 }).catch(() => {})
      await redis.dispose()
      pg.dispose()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

type Learner = { token: string }

async function learners(proxy: string, n: number): Promise<Learner[]> {
  const out: Learner[] = []
  for (let i = 0; i < n; i++) {
    const email = `fault-${crypto.randomUUID()}@example.test`
    const body = (b: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) })
    const reg = await fetch(`${proxy}/v1/auth/register`, body({ email, password: 'a long enough password', displayName: 'Fault' }))
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`)
    const login = await fetch(`${proxy}/v1/auth/login`, body({ email, password: 'a long enough password' }))
    if (!login.ok) throw new Error(`login: ${login.status}`)
    out.push({ token: ((await login.json()) as { accessToken: string }).accessToken })
  }
  return out
}

type Field = (name: string) => string | undefined

/**
 * Reads the SSE stream at `url` as EventSource does: when it ends or breaks, reconnects after 200 ms
 * with Last-Event-ID (the id of the last status event), until `signal` aborts or `until` passes. Each
 * frame goes to `onFrame`; its returning true closes the stream for good.
 */
async function readStream(
  url: string,
  token: string,
  o: { signal: AbortSignal; until?: number; onReconnect: () => void; onFrame: (field: Field) => boolean },
): Promise<void> {
  let lastId: string | undefined
  const open = () => o.until === undefined || Date.now() < o.until
  for (let attempt = 0; open() && !o.signal.aborted; attempt++) {
    if (attempt > 0) {
      o.onReconnect()
      await Bun.sleep(200) // EventSource's reconnection delay, not a wait for an outcome
    }
    try {
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, ...(lastId ? { 'last-event-id': lastId } : {}) },
        signal: o.until === undefined ? o.signal : AbortSignal.any([o.signal, AbortSignal.timeout(Math.max(1, o.until - Date.now()))]),
      })
      if (!res.ok || !res.body) {
        await res.body?.cancel()
        continue
      }
      const reader = res.body.getReader()
      const decoder = new TextDecoder()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const field: Field = (name) =>
            frame
              .split('\n')
              .find((l) => l.startsWith(`${name}: `))
              ?.slice(name.length + 2)
          if (field('event') === 'status') lastId = field('id') ?? lastId
          if (o.onFrame(field)) {
            await reader.cancel()
            return
          }
        }
      }
    } catch {
      // the instance went away mid-stream, or the proxy answered an error, or the reading is over: reconnect
    }
  }
}

const isShutdownEnd = (field: Field) => field('event') === 'end' && (field('data')?.includes('shutdown') ?? false)

type FollowResult = { sawFinal: string | null; reconnects: number; shutdownEnds: number }

/** Follows one submission's stream until it shows a final state; reconnects with Last-Event-ID. */
async function follow(proxy: string, id: string, token: string, until: number, stop: AbortSignal): Promise<FollowResult> {
  const result: FollowResult = { sawFinal: null, reconnects: 0, shutdownEnds: 0 }
  await readStream(`${proxy}/v1/submissions/${id}/events`, token, {
    signal: stop,
    until,
    onReconnect: () => {
      result.reconnects++
    },
    onFrame: (field) => {
      if (isShutdownEnd(field)) result.shutdownEnds++
      if (field('event') !== 'status') return false
      const to = (JSON.parse(field('data') ?? '{}') as { to?: string }).to
      if (!to || !FINAL.has(to)) return false
      result.sawFinal = to
      return true
    },
  })
  return result
}

type Watch = { finals: Map<string, string>; reconnects: number; shutdownEnds: number }

/** One learner's `/v1/events` stream, open for the whole scenario (so an instance stopping has
 * streams to end); reconnects with Last-Event-ID and records the last status of each submission. */
async function watch(proxy: string, token: string, stop: AbortSignal, w: Watch): Promise<void> {
  await readStream(`${proxy}/v1/events`, token, {
    signal: stop,
    onReconnect: () => {
      w.reconnects++
    },
    onFrame: (field) => {
      if (isShutdownEnd(field)) w.shutdownEnds++
      if (field('event') === 'status') {
        const data = JSON.parse(field('data') ?? '{}') as { submissionId?: string; to?: string }
        if (data.submissionId && data.to) w.finals.set(data.submissionId, data.to)
      }
      return false
    },
  })
}

type Sample = { pgConnections: number; redisClients: number; rssMb: Record<string, number> }

async function sample(stack: FaultStack): Promise<Sample> {
  const [row] = await stack.sql<
    { n: number }[]
  >`select count(*)::int as n from pg_stat_activity where datname = 'vstep' and pid <> pg_backend_pid()`
  const client = new RedisClient(stack.redis.url, { connectionTimeout: 1000, maxRetries: 0, autoReconnect: false })
  let redisClients = -1
  try {
    const info = String(await client.send('INFO', ['clients']))
    redisClients = Number(info.match(/connected_clients:(\d+)/)?.[1] ?? -1) - 1 // minus this probe
  } finally {
    client.close()
  }
  const rssMb: Record<string, number> = {}
  for (const s of [...stack.apis, ...stack.workers]) {
    if (!s || s.proc.exitCode !== null) continue
    try {
      const kb = Number(readFileSync(`/proc/${s.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1])
      rssMb[s.name] = Math.round(kb / 1024)
    } catch {
      // exited between the check and the read
    }
  }
  return { pgConnections: row?.n ?? -1, redisClients, rssMb }
}

export type ScenarioReport = {
  name: string
  accepted: number
  refused: number
  completed: number
  inReview: number
  failed: Record<string, number>
  duplicated: number
  lost: number
  unacknowledged: number
  sseFollowed: number
  sseSawFinal: number
  sseReconnects: number
  sseShutdownEnds: number
  watchSawFinal: number
  refusedBy: Record<string, number>
  before: Sample
  after: Sample
  /** How far above the baseline the connection counts may stay (see ScenarioOptions.slack). */
  slack: Slack
  line: string
}

/**
 * Connections above the baseline that are not a leak. The pools never shrink on their own here
 * (postgres.js has no idle timeout, asyncpg drops idle ones after 5 minutes, redis-py keeps its), so
 * after a burst they stay at the size the burst needed, up to their maxima: a long run may set the
 * slack to the pools' head-room, a leak still shows as counts beyond it.
 */
export type Slack = { pg: number; redis: number }
const DEFAULT_SLACK: Slack = { pg: 4, redis: 4 }

export type ScenarioOptions = {
  name: string
  /** Submissions per second through the proxy. */
  rate: number
  /** How long the stream runs. */
  durationMs: number
  /** When, after the stream starts, the fault is injected. */
  faultAtMs: number
  fault: (stack: FaultStack) => Promise<void>
  /** How long after the stream ends every accepted submission has to reach a final state. */
  settleMs: number
  learners?: number
  slack?: Slack
}

/** Runs one scenario: steady traffic, the fault, then the counts. */
export async function runScenario(stack: FaultStack, o: ScenarioOptions): Promise<ScenarioReport> {
  const users = await learners(stack.proxy, o.learners ?? 6)
  const tasks = (await (await fetch(`${stack.proxy}/v1/tasks`)).json()) as { items: { id: string; part: string }[] }
  const taskId = tasks.items.find((t) => t.part === 'writing_task_2')!.id
  const before = stack.baseline ?? (await sample(stack))
  const stopWatching = new AbortController()
  const live: Watch[] = users.map(() => ({ finals: new Map(), reconnects: 0, shutdownEnds: 0 }))
  const watches = users.map((u, i) => watch(stack.proxy, u.token, stopWatching.signal, live[i]!))
  const accepted = new Map<string, Learner>()
  const followers: Promise<FollowResult>[] = []
  const stopFollowing = new AbortController()
  const followUntil = Date.now() + o.durationMs + o.settleMs
  let refused = 0
  const refusedBy: Record<string, number> = {}
  const refuse = (why: string) => {
    refused++
    refusedBy[why] = (refusedBy[why] ?? 0) + 1
  }
  const posts: Promise<void>[] = []
  const started = Date.now()
  const faultDone = Bun.sleep(o.faultAtMs).then(() => o.fault(stack))
  for (let n = 0; Date.now() - started < o.durationMs; n++) {
    const user = users[n % users.length]!
    posts.push(
      (async () => {
        try {
          const res = await fetch(`${stack.proxy}/v1/submissions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
            body: JSON.stringify({ taskId, answerText: essay(n) }),
          })
          if (res.status !== 202) {
            refuse(String(res.status))
            await res.body?.cancel()
            return
          }
          const { id } = (await res.json()) as { id: string }
          accepted.set(id, user)
          followers.push(follow(stack.proxy, id, user.token, followUntil, stopFollowing.signal))
        } catch {
          refuse('network')
        }
      })(),
    )
    // The steady rate: the next request leaves at its slot whatever the answers take.
    const next = started + ((n + 1) * 1000) / o.rate
    await Bun.sleep(Math.max(0, next - Date.now()))
  }
  await Promise.all(posts)
  await faultDone
  const ids = [...accepted.keys()]
  const statusOf = async () =>
    new Map(
      (
        await stack.sql<
          { id: string; status: string; code: string | null }[]
        >`select id, status::text, last_error_code as code from submissions where id in ${stack.sql(ids)}`
      ).map((r) => [r.id, r]),
    )
  const deadline = Date.now() + o.settleMs
  let rows = await statusOf()
  while (Date.now() < deadline && ids.some((id) => !FINAL.has(rows.get(id)?.status ?? ''))) {
    await Bun.sleep(250) // polling the database for a condition with a deadline
    rows = await statusOf()
  }
  const follows = await Promise.all(followers)
  stopFollowing.abort()
  // Each learner's own stream must show every one of its submissions in its final state too.
  const userOf = new Map([...accepted.entries()].map(([id, u]) => [id, users.indexOf(u)]))
  const watchedFinal = (id: string) => live[userOf.get(id)!]!.finals.get(id) === rows.get(id)?.status
  const watchUntil = Date.now() + 15_000
  while (Date.now() < watchUntil && !ids.every(watchedFinal)) await Bun.sleep(100) // a condition with a deadline
  stopWatching.abort()
  await Promise.all(watches)
  const watchSawFinal = ids.filter(watchedFinal).length

  const failed: Record<string, number> = {}
  let completed = 0
  let inReview = 0
  let lost = 0
  for (const id of ids) {
    const r = rows.get(id)
    if (!r || !FINAL.has(r.status)) lost++
    else if (r.status === 'completed') completed++
    else if (r.status === 'review_pending') inReview++
    else failed[r.code ?? 'unknown'] = (failed[r.code ?? 'unknown'] ?? 0) + 1
  }
  const [dup] = await stack.sql<{ n: number }[]>`
    select count(*)::int as n from (
      select s.id from submissions s
       where s.id in ${stack.sql(ids)}
         and ((select count(*) from grades g where g.submission_id = s.id and g.source = 'ai') > 1
           or (select count(*) from submission_events e where e.submission_id = s.id and e.to_status = s.status) > 1)
    ) d`
  const userIds = await stack.sql<{ n: number }[]>`
    select count(*)::int as n from submissions where user_id in (select user_id from submissions where id in ${stack.sql(ids)}) and id not in ${stack.sql(ids)}`
  const sseSawFinal = follows.filter((f, i) => f.sawFinal !== null && f.sawFinal === rows.get(ids[i]!)?.status).length

  // Pools shrink back and nothing leaks: poll until the counts are at most the baseline's (plus the
  // connections a restarted dependency needs to be re-made), with a deadline.
  let after = await sample(stack)
  const slack = o.slack ?? DEFAULT_SLACK
  const settled = (s: Sample) => s.pgConnections <= before.pgConnections + slack.pg && s.redisClients <= before.redisClients + slack.redis
  const until = Date.now() + (stack.baseline ? 30_000 : 0) // the warm-up sets the baseline
  while (!settled(after) && Date.now() < until) {
    await Bun.sleep(500) // polling for a condition with a deadline
    after = await sample(stack)
  }
  const rss = (s: Sample) =>
    Object.entries(s.rssMb)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
  const failedText = Object.entries(failed)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  const line =
    `${o.name}: accepted ${ids.length}, completed ${completed}, in review ${inReview}, ` +
    `failed ${Object.values(failed).reduce((a, b) => a + b, 0)}${failedText ? ` (${failedText})` : ''}, ` +
    `duplicated ${dup?.n ?? -1}, lost ${lost}; refused ${refused}${
      refused
        ? ` (${Object.entries(refusedBy)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`
        : ''
    }, unacknowledged ${userIds[0]?.n ?? -1}; ` +
    `sse: per-submission ${sseSawFinal}/${follows.length}, per-user ${watchSawFinal}/${ids.length} saw the final state ` +
    `(${follows.reduce((a, f) => a + f.reconnects, 0) + live.reduce((a, w) => a + w.reconnects, 0)} reconnects, ` +
    `${follows.reduce((a, f) => a + f.shutdownEnds, 0) + live.reduce((a, w) => a + w.shutdownEnds, 0)} shutdown ends); ` +
    `pg connections ${before.pgConnections}→${after.pgConnections}, redis clients ${before.redisClients}→${after.redisClients}; ` +
    `rss MB before [${rss(before)}] after [${rss(after)}]`
  console.info(line)
  return {
    name: o.name,
    accepted: ids.length,
    refused,
    completed,
    inReview,
    failed,
    duplicated: dup?.n ?? -1,
    lost,
    unacknowledged: userIds[0]?.n ?? -1,
    sseFollowed: follows.length,
    sseSawFinal,
    sseReconnects: follows.reduce((a, f) => a + f.reconnects, 0),
    sseShutdownEnds: follows.reduce((a, f) => a + f.shutdownEnds, 0) + live.reduce((a, w) => a + w.shutdownEnds, 0),
    watchSawFinal,
    refusedBy,
    before,
    after,
    slack,
    line,
  }
}

/** Traffic without a fault, to fill the pools; its end state is the baseline later scenarios return to. */
export async function warmUp(stack: FaultStack, rate: number, durationMs: number): Promise<ScenarioReport> {
  const r = await runScenario(stack, { name: 'warm-up', rate, durationMs, faultAtMs: 0, fault: async () => {}, settleMs: 30_000 })
  stack.baseline = r.after
  return r
}

/** The faults, in the order the suite runs them; `redisDownMs` is the outage's length. */
export const faults = {
  workerKill: async (stack: FaultStack) => {
    const w = stack.workers[0]!
    w.proc.kill('SIGKILL')
    await w.proc.exited
    stack.startWorker(0) // what a restart policy does; the dead one's jobs wait out their in-progress TTL
  },
  redisStop: (downMs: number) => async (stack: FaultStack) => {
    await stack.redis.stop() // SIGKILL, no persistence: the queue is lost, the reconciler refills it
    await Bun.sleep(downMs) // the length of the outage is the scenario's input
    await stack.redis.start()
  },
  postgresRestart: async (stack: FaultStack) => {
    await stack.pg.restartInBackground()
  },
  providerHalfFails: (forMs: number) => async (stack: FaultStack) => {
    await stack.setProviderPattern(['ok', '500'])
    await Bun.sleep(forMs) // the length of the failure window is the scenario's input
    await stack.setProviderPattern([])
  },
  apiSigterm: async (stack: FaultStack) => {
    const api = stack.apis[0]!
    api.proc.kill('SIGTERM')
    const code = await api.proc.exited
    if (code !== 0) throw new Error(`api-a exited with ${code} after SIGTERM:\n${api.output()}`)
  },
}

/** Asserts a scenario's promise; returns the problems found (empty when it held). */
export function problems(r: ScenarioReport, expectAllCompleted: boolean): string[] {
  const out: string[] = []
  if (r.duplicated !== 0) out.push(`duplicated ${r.duplicated}`)
  if (r.lost !== 0) out.push(`lost ${r.lost}`)
  if (r.accepted === 0) out.push('nothing accepted')
  if (r.unacknowledged !== 0) out.push(`unacknowledged ${r.unacknowledged}`)
  // A valid submission refused with a 4xx blames the client for a fault of ours (a 503 is the honest answer).
  for (const [status, n] of Object.entries(r.refusedBy)) if (status.startsWith('4')) out.push(`refused ${n} with ${status}`)
  if (r.sseSawFinal !== r.sseFollowed) out.push(`sse per submission ${r.sseSawFinal}/${r.sseFollowed}`)
  // Each learner's own stream (`/v1/events`) too: event ids of one user are in commit order
  // (migration 0008), so its high-water mark and Last-Event-ID resume skip nothing.
  if (r.watchSawFinal !== r.accepted) out.push(`sse per user ${r.watchSawFinal}/${r.accepted}`)
  if (expectAllCompleted && r.completed !== r.accepted) out.push(`completed ${r.completed}/${r.accepted}`)
  if (r.after.pgConnections > r.before.pgConnections + r.slack.pg)
    out.push(`pg connections ${r.before.pgConnections}→${r.after.pgConnections}`)
  if (r.after.redisClients > r.before.redisClients + r.slack.redis)
    out.push(`redis clients ${r.before.redisClients}→${r.after.redisClients}`)
  for (const [name, mb] of Object.entries(r.after.rssMb)) {
    const was = r.before.rssMb[name]
    if (was !== undefined && mb > was + 150) out.push(`${name} rss ${was}→${mb} MB`)
  }
  return out
}
