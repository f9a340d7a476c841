/**
 * The fault suite, long variants (issue 14): `bun bench/faults.ts [--rate 4] [--duration 60]`.
 * Same stack and counts as apps/api/test/e2e/faults.test.ts, with longer streams and Redis down for
 * 30 s. Prints one line per scenario and exits non-zero if any scenario duplicated or lost anything.
 */
import { parseArgs } from 'node:util'
import { faults, problems, runScenario, startFaultStack, warmUp } from '../apps/api/test/support/fault-suite'

const { values } = parseArgs({ options: { rate: { type: 'string', default: '4' }, duration: { type: 'string', default: '60' } } })
const rate = Number(values.rate)
const durationMs = Number(values.duration) * 1000
const stack = await startFaultStack({ jobTimeoutS: 10 })
const failures: string[] = []
try {
  await warmUp(stack, rate, 5_000)
  const scenarios = [
    { name: 'worker-sigkill', fault: faults.workerKill, all: true },
    { name: 'redis-down-30s', fault: faults.redisStop(30_000), all: true },
    { name: 'postgres-restart', fault: faults.postgresRestart, all: true },
    { name: 'provider-half-fails', fault: faults.providerHalfFails(durationMs / 2), all: false },
    { name: 'api-sigterm', fault: faults.apiSigterm, all: true },
  ]
  for (const s of scenarios) {
    const r = await runScenario(stack, { name: s.name, rate, durationMs, faultAtMs: durationMs / 4, fault: s.fault, settleMs: 120_000 })
    const found = problems(r, s.all)
    if (found.length) failures.push(`${s.name}: ${found.join(', ')}`)
  }
} finally {
  await stack.dispose()
}
if (failures.length) {
  console.error(failures.join('\n'))
  process.exit(1)
}
