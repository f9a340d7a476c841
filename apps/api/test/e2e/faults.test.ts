/**
 * The fault suite, short variants (issue 14; the long ones: `bun bench/faults.ts`). Two API
 * instances behind nginx and two workers take a steady stream of essays while, in turn, a worker is
 * SIGKILLed, Redis is killed and restarted three times, PostgreSQL restarts three times, the provider
 * fails half its calls, and one API instance gets SIGTERM. Every scenario prints one line and must
 * end with nothing duplicated, nothing lost, every SSE follower having seen its submission's final
 * state (reconnecting through the proxy when its instance went away), and pools back to baseline.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { faults, problems, runScenario, startFaultStack, warmUp, type FaultStack } from '../support/fault-suite'

let stack: FaultStack
const RATE = 3
const DURATION = 9_000

beforeAll(async () => {
  stack = await startFaultStack({ jobTimeoutS: 6 })
  const warm = await warmUp(stack, RATE, 4_000)
  expect([warm.duplicated, warm.lost, warm.completed]).toEqual([0, 0, warm.accepted])
}, 180_000)

afterAll(async () => {
  await stack?.dispose()
})

const rounds = (n: number, gapMs: number, fault: (s: FaultStack) => Promise<void>) => async (s: FaultStack) => {
  for (let i = 0; i < n; i++) {
    if (i > 0) await Bun.sleep(gapMs) // spacing between rounds is the scenario's input
    await fault(s)
  }
}

test('a worker SIGKILLed mid-stream: its jobs are finished by the others, once each', async () => {
  const r = await runScenario(stack, {
    name: 'worker-sigkill',
    rate: RATE,
    durationMs: DURATION,
    faultAtMs: 3_000,
    fault: faults.workerKill,
    settleMs: 45_000,
  })
  expect(problems(r, true)).toEqual([])
}, 120_000)

test('Redis killed and restarted three times mid-stream (2 s down each): every submission completes', async () => {
  const r = await runScenario(stack, {
    name: 'redis-kill-x3',
    rate: RATE,
    durationMs: DURATION + 3_000,
    faultAtMs: 1_500,
    fault: rounds(3, 1_000, faults.redisStop(2_000)),
    settleMs: 60_000,
  })
  expect(problems(r, true)).toEqual([])
}, 150_000)

test('PostgreSQL restarted three times mid-stream: every submission completes', async () => {
  const r = await runScenario(stack, {
    name: 'postgres-restart-x3',
    rate: RATE,
    durationMs: DURATION,
    faultAtMs: 1_500,
    fault: rounds(3, 2_000, faults.postgresRestart),
    settleMs: 60_000,
  })
  expect(problems(r, true)).toEqual([])
}, 150_000)

test('the provider fails half its calls: retries grade them, nothing lost or graded twice', async () => {
  const r = await runScenario(stack, {
    name: 'provider-half-fails',
    rate: RATE,
    durationMs: DURATION,
    faultAtMs: 1_000,
    fault: faults.providerHalfFails(6_000),
    settleMs: 60_000,
  })
  expect(problems(r, false)).toEqual([])
  // What did not complete failed for the provider's sake, with its reason, never for a bug.
  expect(Object.keys(r.failed).filter((code) => code !== 'provider_unavailable')).toEqual([])
}, 150_000)

test('one API instance gets SIGTERM: its SSE clients are told to reconnect and resume on the other', async () => {
  const r = await runScenario(stack, {
    name: 'api-sigterm',
    rate: RATE,
    durationMs: DURATION,
    faultAtMs: 3_000,
    fault: faults.apiSigterm,
    settleMs: 45_000,
  })
  expect(problems(r, true)).toEqual([])
  expect(r.sseShutdownEnds).toBeGreaterThan(0)
}, 120_000)
