/**
 * Writes docs/benchmarks.md from bench/results/*.json (the latest result of each stage) and the
 * hand-written reading in bench/analysis.md, with PNG charts under docs/benchmarks/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { API, barChart, EXTRA, FLOOR, writePng } from './report'

type Wrk = { rps: number; p50: number; p99: number; requests: number; non2xx: number; errors: number }
type Any = Record<string, unknown>

const num = (v: unknown, digits = 1) =>
  typeof v === 'number' && Number.isFinite(v) ? (Math.round(v * 10 ** digits) / 10 ** digits).toLocaleString('en-US') : '–'
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**')

export function writeBenchmarksDoc(repo: string): void {
  const dir = join(repo, 'bench/results')
  const read = (stage: string) => {
    const file = join(dir, `${stage}.json`)
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { at: string; seconds: number; result: Any }) : null
  }
  const charts = join(repo, 'docs/benchmarks')
  mkdirSync(charts, { recursive: true })
  const m = existsSync(join(dir, 'machine.json')) ? (JSON.parse(readFileSync(join(dir, 'machine.json'), 'utf8')) as Any) : {}
  const out: string[] = []
  out.push('# Benchmarks', '')
  out.push('Written by `bun run bench` (bench/run.ts) from `bench/results/*.json`; the reading at the end is `bench/analysis.md`.')
  out.push('Every figure sits beside its floor, measured in the same run on the same machine. Speed targets are measured here,')
  out.push('not asserted in tests (a timed test on a shared 2-core machine is a flaky test).', '')
  out.push('```sh', 'bun run bench                 # everything, < 15 minutes', 'bun run bench --only http,catalog --seconds 10', '```', '')
  out.push('## Machine', '')
  out.push(
    `${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB; Bun ${m.bun}; ${m.postgres}; ${m.redis}; ${m.wrk}. Load average at start: ${m.loadAverageAtStart}.`,
  )
  out.push(
    `Run started ${m.startedAt}${m.loadAverageAtEnd ? `; load average at the end: ${m.loadAverageAtEnd}` : ''}. Everything (API, workers, PostgreSQL, Redis, the load generator) shares these cores on loopback, and other work on the machine shares them too: the load average (1, 5, 15 min) before → after each stage is in the table below.`,
    '',
  )
  const loads = ['http', 'intake', 'pipeline', 'sse', 'flood', 'scaling', 'catalog', 'enqueue', 'grading', 'scoring'].flatMap((stage) => {
    const load = (read(stage) as { load?: { before: string; after: string } } | null)?.load
    return load ? [`| ${stage} | ${load.before} | ${load.after} |`] : []
  })
  if (loads.length > 0) out.push('| stage | load before | load after |', '|---|---|---|', ...loads, '')

  const http = read('http')?.result as
    | {
        me: Wrk & { floor: Wrk; ratio: number }
        tasks: Wrk & { floor: Wrk; ratio: number }
        tasksSignedIn: Wrk & { floor: Wrk; ratio: number }
        bytes: { me: number; tasks: number }
      }
    | undefined
  const intake = read('intake')?.result as
    | { api: Wrk; floor: { rps: number; p50: number; p99: number }; ratio: number; concurrency: number }
    | undefined
  out.push('## Targets', '', '| scenario | measured | floor (same run) | ratio | target | |', '|---|---|---|---|---|---|')
  if (http) {
    out.push(
      `| 1. \`GET /v1/me\` (64 conns) | ${num(http.me.rps, 0)} req/s, p50 ${num(http.me.p50, 2)} / p99 ${num(http.me.p99, 2)} ms | ${num(http.me.floor.rps, 0)} req/s, p99 ${num(http.me.floor.p99, 2)} ms | ${num(http.me.ratio, 3)} | ≥ 0.3 | ${verdict(http.me.ratio >= 0.3)} |`,
    )
    out.push(
      `| 1. \`GET /v1/tasks\` (anonymous) | ${num(http.tasks.rps, 0)} req/s, p50 ${num(http.tasks.p50, 2)} / p99 ${num(http.tasks.p99, 2)} ms | ${num(http.tasks.floor.rps, 0)} req/s, p99 ${num(http.tasks.floor.p99, 2)} ms | ${num(http.tasks.ratio, 3)} | ≥ 0.6 | ${verdict(http.tasks.ratio >= 0.6)} |`,
    )
    out.push(
      `| 1. \`GET /v1/tasks\` (signed in) | ${num(http.tasksSignedIn.rps, 0)} req/s, p50 ${num(http.tasksSignedIn.p50, 2)} / p99 ${num(http.tasksSignedIn.p99, 2)} ms | same floor | ${num(http.tasksSignedIn.ratio, 3)} | – | |`,
    )
  }
  if (intake) {
    out.push(
      `| 2. intake \`POST /v1/submissions\` (${intake.concurrency} conns) | ${num(intake.api.rps, 0)} req/s, p50 ${num(intake.api.p50, 2)} / p99 ${num(intake.api.p99, 2)} ms | bare INSERT + Lua enqueue: ${num(intake.floor.rps, 0)} /s, p99 ${num(intake.floor.p99, 2)} ms | ${num(intake.ratio, 3)} | ≥ 0.6 | ${verdict(intake.ratio >= 0.6)} |`,
    )
  }
  const pipeline = read('pipeline')?.result as { steady: Any; arqNoop: Any[]; pollDelay?: number; byPollDelay?: Any[] } | undefined
  if (pipeline) {
    const s = pipeline.steady as { p50: number; p95: number; p99: number; completedPerSecond: number; submissions: number }
    const noops = pipeline.arqNoop as { poll_delay: number; jobs_per_second: number; single_job_latency_p50_ms: number }[]
    const noop = noops.find((n) => n.poll_delay === pipeline.pollDelay) ?? noops[0]!
    out.push(
      `| 3. pipeline, 50/s, 1 worker (poll ${pipeline.pollDelay ?? '?'} s), ${s.submissions} essays | submit → SSE \`completed\` p50 ${num(s.p50, 0)} / p95 ${num(s.p95, 0)} / p99 ${num(s.p99, 0)} ms; ${num(s.completedPerSecond)} /s | raw arq no-op (poll ${noop.poll_delay} s): ${num(noop.jobs_per_second, 0)} jobs/s, single job p50 ${num(noop.single_job_latency_p50_ms, 0)} ms | – | p50 ≤ 150, p99 ≤ 500 ms | ${verdict(s.p50 <= 150 && s.p99 <= 500)} |`,
    )
  }
  const sse = read('sse')?.result as
    | { opened: number; requested: number; rssAfterMiB: number; rssPerStreamKiB: number; broadcastP99: number; delivered: number }
    | undefined
  if (sse) {
    out.push(
      `| 4. SSE fan-out | ${sse.opened.toLocaleString('en-US')} of ${sse.requested.toLocaleString('en-US')} streams open; RSS ${num(sse.rssAfterMiB, 0)} MiB (${num(sse.rssPerStreamKiB)} KiB per stream); commit → subscriber p99 ${num(sse.broadcastP99, 0)} ms (${sse.delivered} delivered) | – | – | < 1.5 GiB, p99 ≤ 250 ms | ${verdict(sse.opened >= sse.requested && sse.rssAfterMiB < 1536 && sse.broadcastP99 <= 250)} |`,
    )
  }
  const flood = read('flood')?.result as
    | { unloaded: Wrk; loaded: Wrk; ratio: number; logins: Record<string, number>; loginP50: number; loginP99: number }
    | undefined
  if (flood) {
    out.push(
      `| 5. login flood (200 concurrent) | \`GET /v1/me\` p99 ${num(flood.loaded.p99, 2)} ms under the flood | unloaded p99 ${num(flood.unloaded.p99, 2)} ms | ${num(flood.ratio, 2)} × | ≤ 3 × | ${verdict(flood.ratio <= 3)} |`,
    )
  }
  const scoring = read('scoring')?.result as { p50: number; p95: number } | undefined
  if (scoring)
    out.push(
      `| scoring one essay (issue 7) | p50 ${num(scoring.p50, 1)} / p95 ${num(scoring.p95, 1)} ms | – | – | p95 < 50 ms | ${verdict(scoring.p95 < 50)} |`,
    )
  out.push('')

  if (http) {
    const png = writePng(
      charts,
      'http',
      barChart(
        'Requests per second, API vs bare Elysia route with the same bytes',
        'requests/s',
        ['GET /v1/me', 'GET /v1/tasks', 'GET /v1/tasks (signed in)', 'POST /v1/submissions'],
        [
          { name: 'API', color: API, values: [http.me.rps, http.tasks.rps, http.tasksSignedIn.rps, intake?.api.rps ?? Number.NaN] },
          {
            name: 'floor',
            color: FLOOR,
            values: [http.me.floor.rps, http.tasks.floor.rps, http.tasksSignedIn.floor.rps, intake?.floor.rps ?? Number.NaN],
          },
        ],
      ),
    )
    out.push('## 1–2. Reads and intake against their floors', '')
    if (png) out.push(`![requests per second](benchmarks/${png})`, '')
    out.push(
      `Bodies: \`/v1/me\` ${http.bytes.me} bytes, \`/v1/tasks\` ${http.bytes.tasks} bytes (the seeded catalogue). wrk, 2 threads, 64 connections, one token (the read limit raised so it never refuses, but still counted: in Redis, through the instance's quota leases, \`platform/quota-lease.ts\`). The API runs with \`LOG_LEVEL=warn\` (no access log line per request).`,
      '',
    )
    out.push('| route | req/s | p50 ms | p99 ms | non-2xx | floor req/s | floor p50 | floor p99 |', '|---|---|---|---|---|---|---|---|')
    for (const [name, r] of [
      ['GET /v1/me', http.me],
      ['GET /v1/tasks', http.tasks],
      ['GET /v1/tasks signed in', http.tasksSignedIn],
    ] as const) {
      out.push(
        `| ${name} | ${num(r.rps, 0)} | ${num(r.p50, 2)} | ${num(r.p99, 2)} | ${r.non2xx} | ${num(r.floor.rps, 0)} | ${num(r.floor.p50, 2)} | ${num(r.floor.p99, 2)} |`,
      )
    }
    if (intake)
      out.push(
        `| POST /v1/submissions | ${num(intake.api.rps, 0)} | ${num(intake.api.p50, 2)} | ${num(intake.api.p99, 2)} | ${intake.api.non2xx} | ${num(intake.floor.rps, 0)} | ${num(intake.floor.p50, 2)} | ${num(intake.floor.p99, 2)} |`,
      )
    out.push('')
  }

  if (pipeline) {
    const s = pipeline.steady as Any
    out.push('## 3. Grading pipeline at a steady 50 submissions/s', '')
    out.push(
      `One worker (\`WORKER_MAX_JOBS\` 10, \`WORKER_POLL_DELAY_SECONDS\` ${pipeline.pollDelay ?? '?'}), offline scorer; each essay timed from the POST to its \`completed\` event on the learner's SSE stream: p50 ${num(s.p50, 0)}, p95 ${num(s.p95, 0)}, p99 ${num(s.p99, 0)}, max ${num(s.max, 0)} ms; ${num(s.completedPerSecond)} completed/s for ${num(s.offeredPerSecond, 0)}/s offered.`,
      '',
      'Each poll delay on its own stack; queue wait = created → processing, grading = processing → completed (from the event rows); CPU per job = CPU seconds of the process tree over the run / essays.',
      '',
      '| poll delay | essays | completed/s | p50 ms | p95 ms | p99 ms | queue wait p50 / p99 ms | grading p50 / p99 ms | worker CPU ms/job | API CPU s |',
      '|---|---|---|---|---|---|---|---|---|---|',
    )
    for (const r of (pipeline.byPollDelay ?? []) as Record<string, number>[]) {
      out.push(
        `| ${r.pollDelay} s | ${r.submissions} | ${num(r.completedPerSecond)} | ${num(r.p50, 0)} | ${num(r.p95, 0)} | ${num(r.p99, 0)} | ${num(r.queueWaitP50, 0)} / ${num(r.queueWaitP99, 0)} | ${num(r.gradingP50, 0)} / ${num(r.gradingP99, 0)} | ${num(r.workerCpuMsPerJob, 1)} | ${num(r.apiCpuSeconds, 1)} |`,
      )
    }
    out.push('')
    out.push(
      'Raw arq, no-op jobs, one worker with `max_jobs` 10 (bench/arq_noop.py), by poll delay:',
      '',
      '| poll_delay | burst jobs/s | single job enqueue → result p50 | max of 40 |',
      '|---|---|---|---|',
    )
    for (const n of pipeline.arqNoop as {
      poll_delay: number
      jobs_per_second: number
      single_job_latency_p50_ms: number
      single_job_latency_p99_ms: number
    }[]) {
      out.push(
        `| ${n.poll_delay} s | ${num(n.jobs_per_second, 0)} | ${num(n.single_job_latency_p50_ms, 0)} ms | ${num(n.single_job_latency_p99_ms, 0)} ms |`,
      )
    }
    const png = writePng(
      charts,
      'pipeline',
      barChart(
        'Submit → SSE completed at 50/s (1 worker) vs raw arq single no-op job',
        'ms',
        ['p50', 'p95', 'p99'],
        [{ name: 'pipeline', color: API, values: [Number(s.p50), Number(s.p95), Number(s.p99)] }],
      ),
    )
    if (png) out.push('', `![pipeline latency](benchmarks/${png})`)
    out.push('')
  }

  const scaling = read('scaling')?.result as
    | { workers: number; completedPerSecond: number; perWorker: number; submissions: number }[]
    | undefined
  if (scaling) {
    out.push('## 6a. Scaling workers', '', '| workers | burst | completed/s | per worker |', '|---|---|---|---|')
    for (const r of scaling) out.push(`| ${r.workers} | ${r.submissions} | ${num(r.completedPerSecond)} | ${num(r.perWorker)} |`)
    const png = writePng(
      charts,
      'scaling',
      barChart(
        'Grading throughput by worker processes (burst, same 2 cores)',
        'completed/s',
        scaling.map((r) => `${r.workers} worker(s)`),
        [
          { name: 'completed/s', color: API, values: scaling.map((r) => r.completedPerSecond) },
          { name: 'per worker', color: EXTRA, values: scaling.map((r) => r.perWorker) },
        ],
      ),
    )
    if (png) out.push('', `![scaling](benchmarks/${png})`)
    out.push('')
  }

  const catalog = read('catalog')?.result as { tasks: number; bytes: number; api: Wrk; floor: Wrk; ratio: number }[] | undefined
  if (catalog) {
    out.push(
      '## 6b. Catalogue size',
      '',
      '| tasks | body bytes | API req/s | p99 ms | floor req/s | floor p99 | ratio |',
      '|---|---|---|---|---|---|---|',
    )
    for (const r of catalog)
      out.push(
        `| ${r.tasks.toLocaleString('en-US')} | ${r.bytes.toLocaleString('en-US')} | ${num(r.api.rps, 0)} | ${num(r.api.p99, 2)} | ${num(r.floor.rps, 0)} | ${num(r.floor.p99, 2)} | ${num(r.ratio, 3)} |`,
      )
    const png = writePng(
      charts,
      'catalog',
      barChart(
        'GET /v1/tasks by catalogue size, API vs bare route (same bytes)',
        'requests/s',
        catalog.map((r) => `${r.tasks} tasks`),
        [
          { name: 'API', color: API, values: catalog.map((r) => r.api.rps) },
          { name: 'floor', color: FLOOR, values: catalog.map((r) => r.floor.rps) },
        ],
      ),
    )
    if (png) out.push('', `![catalogue](benchmarks/${png})`)
    out.push('')
  }

  if (sse) {
    const r = read('sse')!.result
    out.push('## 4. SSE fan-out', '', '```json', JSON.stringify(r, null, 2), '```', '')
  }
  if (flood) {
    out.push('## 5. Login flood', '')
    out.push(
      `200 concurrent clients log in in a loop (production Argon2id cost, m = 64 MiB, t = 2) while wrk reads \`GET /v1/me\` with 16 connections. Logins by status: ${Object.entries(
        flood.logins,
      )
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}; login p50 ${num(flood.loginP50, 0)} / p99 ${num(flood.loginP99, 0)} ms.`,
      '',
    )
    out.push('| reads | req/s | p50 ms | p99 ms |', '|---|---|---|---|')
    out.push(`| unloaded | ${num(flood.unloaded.rps, 0)} | ${num(flood.unloaded.p50, 2)} | ${num(flood.unloaded.p99, 2)} |`)
    out.push(`| during the flood | ${num(flood.loaded.rps, 0)} | ${num(flood.loaded.p50, 2)} | ${num(flood.loaded.p99, 2)} |`, '')
  }
  const enqueue = read('enqueue')?.result as { jobs: number; jobsPerSecond: number } | undefined
  const grading = read('grading')?.result as Any | undefined
  if (enqueue || grading || scoring) {
    out.push('## Enqueue, grading burst and scoring (earlier stages)', '')
    if (enqueue)
      out.push(
        `- enqueue: ${enqueue.jobs.toLocaleString('en-US')} jobs with the Lua script, 200 in flight: ${enqueue.jobsPerSecond.toLocaleString('en-US')} jobs/s.`,
      )
    if (grading)
      out.push(
        `- grading burst: ${grading.submissions} essays, ${grading.workers} worker(s): ${num(grading.essaysPerSecond)} essays/s; POST p50 ${num(grading.postP50)} / p95 ${num(grading.postP95)} ms; submit → completed (inside PostgreSQL) p50 ${num(grading.completedP50, 0)} / p95 ${num(grading.completedP95, 0)} / max ${num(grading.completedMax, 0)} ms.`,
      )
    if (scoring)
      out.push(
        `- scoring: the offline scorer on the project's 8 fixture essays × 25 rounds in one warm process (\`python -m grader.evaluate\`): p50 ${num(scoring.p50)} ms, p95 ${num(scoring.p95)} ms per essay (target of issue 7: p95 < 50 ms).`,
      )
    out.push('')
  }
  // The soak (bench/soak.ts) runs on its own and writes its section; kept across regenerations.
  const soak = join(repo, 'bench/results/soak.md')
  if (existsSync(soak)) out.push(readFileSync(soak, 'utf8').trim(), '')
  // So does the long fault suite (bench/faults.ts).
  const faultLines = join(repo, 'bench/results/faults.md')
  if (existsSync(faultLines)) out.push(readFileSync(faultLines, 'utf8').trim(), '')
  const analysis = join(repo, 'bench/analysis.md')
  if (existsSync(analysis)) out.push(readFileSync(analysis, 'utf8').trim(), '')
  writeFileSync(join(repo, 'docs/benchmarks.md'), `${out.join('\n')}\n`)
  console.log('wrote docs/benchmarks.md')
}

if (import.meta.main) writeBenchmarksDoc(join(import.meta.dir, '..'))
