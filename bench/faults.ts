/**
 * The fault suite, long variants (issue 14): `bun bench/faults.ts [--rate 4] [--duration 60]`.
 * Same stack and counts as apps/api/test/e2e/faults.test.ts, with longer streams and Redis down for
 * 30 s. Prints one line per scenario and exits non-zero if any scenario duplicated or lost anything.
 * Writes the lines to bench/results/faults.md, which bench/doc.ts keeps in docs/benchmarks.md.
 */
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { faults, problems, runScenario, type Slack, startFaultStack, warmUp } from '../apps/api/test/support/fault-suite'

const { values } = parseArgs({ options: { rate: { type: 'string', default: '4' }, duration: { type: 'string', default: '60' } } })
const rate = Number(values.rate)
const durationMs = Number(values.duration) * 1000
const stack = await startFaultStack({ jobTimeoutS: 10 })
const failures: string[] = []
const lines: string[] = []
let slack: Slack = { pg: 4, redis: 4 }
const startedAt = Date.now()
try {
  const warm = await warmUp(stack, rate, 5_000)
  lines.push(warm.line)
  // A minute of traffic (and the burst after Redis is back) grows the pools past the short warm-up's
  // size, and none of them shrinks within the 30 s the suite waits: allow the pools' head-room, no
  // more. PostgreSQL: 2 APIs × (postgres.js pool 10 + LISTEN 1) + 2 workers × asyncpg (max_jobs 10 + 1).
  // Redis: up to one redis-py connection per running job in each worker (2 × max_jobs 10).
  slack = { pg: Math.max(4, 2 * 11 + 2 * 11 - warm.after.pgConnections), redis: 2 * 10 }
  const scenarios = [
    { name: 'worker-sigkill', fault: faults.workerKill, all: true },
    { name: 'redis-down-30s', fault: faults.redisStop(30_000), all: true },
    { name: 'postgres-restart', fault: faults.postgresRestart, all: true },
    { name: 'provider-half-fails', fault: faults.providerHalfFails(durationMs / 2), all: false },
    { name: 'api-sigterm', fault: faults.apiSigterm, all: true },
  ]
  for (const s of scenarios) {
    const r = await runScenario(stack, {
      name: s.name,
      rate,
      durationMs,
      faultAtMs: durationMs / 4,
      fault: s.fault,
      settleMs: 120_000,
      slack,
    })
    lines.push(r.line)
    const found = problems(r, s.all)
    if (found.length) failures.push(`${s.name}: ${found.join(', ')}`)
  }
} finally {
  await stack.dispose()
}
const minutes = Math.round((Date.now() - startedAt) / 60_000)
writeFileSync(
  join(import.meta.dir, 'results/faults.md'),
  [
    '## Faults under a steady stream (long variants)',
    '',
    `\`bun bench/faults.ts --rate ${rate} --duration ${durationMs / 1000}\` (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, about ${minutes} min): two API instances behind nginx, two workers, the fake AI provider; ${rate} essays/s for ${durationMs / 1000} s per scenario, the fault at a quarter of the stream (Redis stopped for 30 s), each submission followed over SSE through the proxy and every learner holding a /v1/events stream. Connection counts may stay above the warm-up's by the pools' head-room (pg ${slack.pg}, redis ${slack.redis}), as the pools do not shrink within the run. ${failures.length ? `FAILED: ${failures.join('; ')}` : 'Every scenario held: duplicated 0, lost 0, every SSE follower saw the final state.'}`,
    '',
    ...lines.map((l) => `- ${l}`),
    '',
  ].join('\n'),
)
if (failures.length) {
  console.error(failures.join('\n'))
  process.exit(1)
}
