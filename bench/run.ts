/**
 * Benchmarks with recorded results (docs/benchmarks.md, bench/results/*.json), not timed tests.
 * `bun run bench` (bench/run.sh: finds or installs uv and wrk, raises the open-file limit) runs all:
 *   http, intake, pipeline, sse, flood, scaling, catalog: issue 13's scenarios (bench/scenarios.ts),
 *     each beside its floor measured in the same run;
 *   enqueue: the TypeScript arq producer against a private redis-server;
 *   grading: submissions from POST to `completed`, with the API and N worker processes real;
 *   scoring: the worker's own scorer on the project's fixture essays, p50/p95 per essay (its
 *     agreement harness, `python -m grader.evaluate`, run through uv as the worker runs).
 * Usage: bun run bench [--only a,b,...] [--jobs 10000] [--submissions 200] [--workers 1] [--rounds 25]
 *        [--seconds 5] [--subscribers 10000]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { RedisClient } from 'bun'
import postgres from 'postgres'
import { enqueueJob } from '../apps/api/src/queue/arq'
import { waitFor, WORKER_DIR, type Service } from '../apps/api/test/support/processes'
import { startTestRedis } from '../apps/api/test/support/redis-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../apps/api/test/support/stack'
import { createTestDatabase } from '@vstep/db/testing'
import { writeBenchmarksDoc } from './doc'
import { loadAverage, machine } from './lib'
import { benchCatalog, benchFlood, benchHttp, benchIntake, benchPipeline, benchScaling, benchSse } from './scenarios'

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '10000' },
    submissions: { type: 'string', default: '200' },
    workers: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '25' },
    only: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    subscribers: { type: 'string', default: '10000' },
    'no-doc': { type: 'boolean', default: false },
  },
})
const SECONDS = Number(values.seconds)
const JOBS = Number(values.jobs)
const SUBMISSIONS = Number(values.submissions)
const WORKERS = Number(values.workers)
const ROUNDS = Number(values.rounds)

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

async function benchEnqueue() {
  const redis = await startTestRedis()
  const client = new RedisClient(redis.url)
  try {
    const started = performance.now()
    const batch = 200
    for (let i = 0; i < JOBS; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, JOBS - i) }, (_, j) =>
          enqueueJob(client, 'grade_submission', [], { submission_id: crypto.randomUUID() }, { jobId: `bench-${i + j}` }),
        ),
      )
    }
    const seconds = (performance.now() - started) / 1000
    const queued = Number(await client.send('ZCARD', ['arq:queue']))
    console.log(`enqueue: ${JOBS} jobs in ${seconds.toFixed(2)} s = ${Math.round(JOBS / seconds)} jobs/s (queued: ${queued})`)
    return { jobs: JOBS, jobsPerSecond: Math.round(JOBS / seconds), queued }
  } finally {
    client.close()
    await redis.dispose()
  }
}

const ESSAY = `Many companies now let their staff work from home for part of the week. In my opinion, this change brings more benefits than problems.

Firstly, working from home saves time and money. Employees who do not travel every morning can start earlier and feel less tired. Furthermore, companies can rent smaller offices.

However, some people argue that teamwork suffers when colleagues rarely meet. For example, new employees may find it difficult to learn from experienced staff.

In conclusion, flexible working is a positive development, as long as companies support their employees properly.`

async function benchGrading() {
  const database = await createTestDatabase()
  const redis = await startTestRedis()
  const keyDir = mkdtempSync(join(tmpdir(), 'vstep-bench-keys-'))
  const services: Service[] = []
  const env = { DATABASE_URL: database.url, REDIS_URL: redis.url }
  try {
    seedDatabase(env)
    const api = await startApiProcess(services, { env: { ...env, RATE_LIMIT_SUBMISSIONS: '1000000' }, keyDir })
    for (let i = 0; i < WORKERS; i++) startWorkerProcess(services, { env, name: `worker-${i}` })
    // Measure grading, not interpreter start-up: wait until a worker has polled (arq writes its health key).
    const probe = new RedisClient(redis.url)
    await waitFor('a worker to poll', async () => ((await probe.get('arq:queue:health-check')) ? true : undefined), 30_000, services)
    probe.close()
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${api}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      })
    const email = `bench-${crypto.randomUUID()}@example.test`
    await post('/v1/auth/register', { email, password: 'bench password 123', displayName: 'Bench' })
    const login = await post('/v1/auth/login', { email, password: 'bench password 123' })
    if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`)
    const { accessToken } = (await login.json()) as { accessToken: string }
    const tasks = (await (await fetch(`${api}/v1/tasks`)).json()) as { items: { id: string; part: string }[] }
    const taskId = tasks.items.find((t) => t.part === 'writing_task_2')!.id

    const started = performance.now()
    const postLatencies: number[] = []
    for (let i = 0; i < SUBMISSIONS; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, SUBMISSIONS - i) }, async () => {
          const t0 = performance.now()
          const res = await post('/v1/submissions', { taskId, answerText: ESSAY }, accessToken)
          if (res.status !== 202) throw new Error(`submit failed: ${res.status}`)
          postLatencies.push(performance.now() - t0)
        }),
      )
    }
    const sql = postgres(database.url, { max: 1, onnotice: () => {} })
    await waitFor(
      'all submissions completed',
      async () => {
        const [row] = await sql`select count(*)::int as n from submissions where status = 'completed'`
        return row!.n === SUBMISSIONS ? true : undefined
      },
      600_000,
      services,
    )
    const wall = (performance.now() - started) / 1000
    const rows = await sql<{ ms: number }[]>`
      select extract(epoch from (done.created_at - made.created_at)) * 1000 as ms
      from submission_events made join submission_events done using (submission_id)
      where made.from_status is null and done.to_status = 'completed'`
    await sql.end()
    const latency = rows.map((r) => Number(r.ms)).sort((a, b) => a - b)
    postLatencies.sort((a, b) => a - b)
    console.log(
      `grading: ${SUBMISSIONS} essays, ${WORKERS} worker(s): ${(SUBMISSIONS / wall).toFixed(1)} essays/s; ` +
        `POST p50 ${percentile(postLatencies, 50).toFixed(1)} ms p95 ${percentile(postLatencies, 95).toFixed(1)} ms; ` +
        `submit→completed p50 ${percentile(latency, 50).toFixed(0)} ms p95 ${percentile(latency, 95).toFixed(0)} ms max ${latency.at(-1)!.toFixed(0)} ms`,
    )
    return {
      submissions: SUBMISSIONS,
      workers: WORKERS,
      essaysPerSecond: Math.round((SUBMISSIONS / wall) * 10) / 10,
      postP50: percentile(postLatencies, 50),
      postP95: percentile(postLatencies, 95),
      completedP50: percentile(latency, 50),
      completedP95: percentile(latency, 95),
      completedMax: latency.at(-1)!,
    }
  } finally {
    for (const s of services) await s.stop()
    await redis.dispose()
    await database.drop()
    rmSync(keyDir, { recursive: true, force: true })
  }
}

/** uv as scripts/lib.sh finds it: on PATH, or in the project's tool venv, or npm's global bin. */
const REPO = join(import.meta.dir, '..')
const UV = Bun.which('uv', { PATH: `${process.env.PATH ?? ''}:${join(REPO, '.tools/bin')}:/usr/local/bin` })

/** Runs a command in the worker's directory through uv; returns its stdout, throws with stderr. */
function inWorker(args: string[]): string {
  if (!UV) throw new Error('uv not found: run `bun run bench` (bench/run.sh installs it) or put uv on PATH')
  const run = Bun.spawnSync([UV, 'run', '--frozen', ...args], {
    cwd: WORKER_DIR,
    env: { ...process.env, UV_PYTHON_DOWNLOADS: 'never' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (run.exitCode !== 0) throw new Error(`${args.join(' ')} failed:\n${run.stderr.toString()}`)
  return run.stdout.toString()
}

/** The project's own fixture essays (tests/writing_fixtures.py, tests/samples.py: written for it), as harness rows. */
const EXPORT_FIXTURES = `
import json, sys
sys.path.insert(0, "tests")
import samples, writing_fixtures
rows = [{"text": text, "prompt": task.prompt, "min_words": task.min_words, "part": task.part}
        for task, text, _, _ in writing_fixtures.FIXTURES.values()]
rows += [{"text": t, "prompt": samples.REMOTE_WORK_PROMPT, "min_words": 250, "part": "writing_task_2"}
         for t in (samples.GOOD_ESSAY, samples.SHORT_ESSAY, samples.OFF_TOPIC_ESSAY)]
for row in rows:
    print(json.dumps(row))
`

async function benchScoring() {
  const dir = mkdtempSync(join(tmpdir(), 'vstep-bench-scoring-'))
  try {
    const essays = inWorker(['python', '-c', EXPORT_FIXTURES]).trim().split('\n')
    const file = join(dir, 'essays.jsonl')
    writeFileSync(file, `${Array.from({ length: ROUNDS }, () => essays.join('\n')).join('\n')}\n`)
    const out = inWorker(['python', '-m', 'grader.evaluate', file])
    const timing = out.match(/scoring time per answer: p50 ([\d.]+) ms, p95 ([\d.]+) ms/)
    if (!timing) throw new Error(`no timing in the harness output:\n${out}`)
    console.log(
      `scoring: ${essays.length} fixture essays x ${ROUNDS} rounds, offline scorer in one process: p50 ${timing[1]} ms p95 ${timing[2]} ms per essay`,
    )
    return { essays: essays.length, rounds: ROUNDS, p50: Number(timing[1]), p95: Number(timing[2]), target: { p95: 50 } }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const STAGES = ['http', 'intake', 'pipeline', 'sse', 'flood', 'scaling', 'catalog', 'enqueue', 'grading', 'scoring'] as const
type Stage = (typeof STAGES)[number]
const only = values.only?.split(',').map((s) => s.trim())
for (const name of only ?? []) if (!STAGES.includes(name as Stage)) throw new Error(`--only takes ${STAGES.join(', ')}; got ${name}`)
// The workers' start-up needs uv too: make it findable by the processes this bench starts.
if (UV) process.env.PATH = `${join(UV, '..')}:${process.env.PATH ?? ''}`

const RESULTS = join(REPO, 'bench/results')
mkdirSync(RESULTS, { recursive: true })
const run: Record<string, unknown> = {}
const startedAt = new Date()
const env = machine()
writeFileSync(join(RESULTS, 'machine.json'), `${JSON.stringify({ ...env, startedAt }, null, 2)}\n`)
const stages: Record<Stage, () => Promise<unknown>> = {
  http: () => benchHttp(SECONDS),
  intake: () => benchIntake(SECONDS),
  pipeline: () => benchPipeline(20, inWorker),
  sse: () => benchSse(Number(values.subscribers)),
  flood: () => benchFlood(SECONDS + 3),
  scaling: () => benchScaling(400),
  catalog: () => benchCatalog(SECONDS),
  enqueue: () => benchEnqueue(),
  grading: () => benchGrading(),
  scoring: () => benchScoring(),
}
for (const stage of STAGES) {
  if (only && !only.includes(stage)) continue
  if ((stage === 'scoring' || stage === 'pipeline') && !UV) {
    console.warn(`${stage}: skipped, uv not found (bun run bench installs it)`)
    continue
  }
  const t0 = performance.now()
  console.log(`== ${stage}`)
  // The machine is shared: each stage records the load average (1, 5, 15 min) it ran under.
  const loadBefore = loadAverage()
  try {
    const result = await stages[stage]()
    run[stage] = result
    const load = { before: loadBefore, after: loadAverage() }
    writeFileSync(
      join(RESULTS, `${stage}.json`),
      `${JSON.stringify({ stage, at: new Date().toISOString(), seconds: Math.round((performance.now() - t0) / 1000), load, result }, null, 2)}\n`,
    )
    console.log(JSON.stringify(result))
  } catch (error) {
    console.error(`${stage} failed:`, error)
    process.exitCode = 1
  }
}
console.log(`bench finished in ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s`)
writeFileSync(
  join(RESULTS, 'machine.json'),
  `${JSON.stringify({ ...env, startedAt, finishedAt: new Date(), loadAverageAtEnd: loadAverage() }, null, 2)}\n`,
)
if (!values['no-doc'] && existsSync(RESULTS)) writeBenchmarksDoc(REPO)
