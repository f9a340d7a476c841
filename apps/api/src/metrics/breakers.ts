import type { RedisClient } from 'bun'
import { Counter, Gauge, type Registry } from 'prom-client'
import { setCounter } from './registry'
import { shared } from './scrape'

/**
 * The grading worker's circuit breakers, for /metrics. The breakers live in Redis (one Lua script,
 * shared by every worker process; see workers/grader-py/src/grader/breaker/redis_breaker.py), so the
 * API reads them at scrape time: `grader:breakers` (set of provider names), `grader:breaker:<p>`
 * (hash: state) and `grader:breaker:<p>:calls` (hash of counters: success, failure, rejected,
 * to_open, to_half_open, to_closed). Counters are totals since the Redis data began, summed over all
 * workers. (The worker's own series, jobs and provider latency, are on its WORKER_METRICS_PORT.)
 */
export const BREAKER_REGISTRY_KEY = 'grader:breakers'
export const BREAKER_STATE_VALUE: Record<string, number> = { closed: 0, open: 1, half_open: 2 }
const CALL_OUTCOMES = ['success', 'failure', 'rejected'] as const
const TRANSITIONS = ['open', 'half_open', 'closed'] as const

type Fields = Record<string, string>
export type BreakerSnapshot = { provider: string; state: string; calls: Fields }

/** HGETALL answers a flat array (RESP2) or an object (RESP3); both become a record. */
const fieldsOf = (reply: unknown): Fields => {
  if (Array.isArray(reply)) {
    const out: Fields = {}
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1])
    return out
  }
  if (reply && typeof reply === 'object') return Object.fromEntries(Object.entries(reply).map(([k, v]) => [k, String(v)]))
  return {}
}

export async function readBreakers(client: RedisClient): Promise<BreakerSnapshot[]> {
  const names = ((await client.send('SMEMBERS', [BREAKER_REGISTRY_KEY])) as unknown[]).map(String).sort()
  return Promise.all(
    names.map(async (provider) => {
      const state = await client.send('HGET', [`grader:breaker:${provider}`, 'state'])
      const calls = fieldsOf(await client.send('HGETALL', [`grader:breaker:${provider}:calls`]))
      return { provider, state: state ? String(state) : 'closed', calls }
    }),
  )
}

/**
 * Registers grader_breaker_state{provider} (0 closed, 1 open, 2 half-open), grader_provider_calls_total
 * {provider,outcome} and grader_breaker_transitions_total{provider,to}, filled from `read()` at each
 * scrape (no series while Redis is down). prom-client collects the metrics of a scrape concurrently,
 * so the three share one read.
 */
export function registerBreakerMetrics(registry: Registry, read: () => Promise<BreakerSnapshot[]>): void {
  const snapshot = shared(() => read().catch((): BreakerSnapshot[] => []))
  new Gauge({
    name: 'grader_breaker_state',
    help: 'Circuit breaker of each AI provider: 0 closed, 1 open, 2 half-open (as last written by a worker)',
    labelNames: ['provider'] as const,
    registers: [registry],
    async collect() {
      const snapshots = await snapshot()
      this.reset()
      for (const s of snapshots) this.set({ provider: s.provider }, BREAKER_STATE_VALUE[s.state] ?? Number.NaN)
    },
  })
  callCounter(registry, snapshot, {
    name: 'grader_provider_calls_total',
    help: 'AI provider calls by outcome: success, failure (transient error), rejected (breaker open, no call made)',
    label: 'outcome',
    values: CALL_OUTCOMES,
    field: (outcome) => outcome,
  })
  callCounter(registry, snapshot, {
    name: 'grader_breaker_transitions_total',
    help: 'Circuit breaker state changes by the state entered',
    label: 'to',
    values: TRANSITIONS,
    field: (to) => `to_${to}`,
  })
}

type CallCounter<L extends string> = {
  name: string
  help: string
  label: L
  values: readonly string[]
  /** The `calls` hash field a label value is counted in. */
  field: (value: string) => string
}

/** A counter {provider, `label`} copied at scrape time from each breaker's `calls` hash. */
function callCounter<L extends string>(
  registry: Registry,
  snapshot: () => Promise<BreakerSnapshot[]>,
  { name, help, label, values, field }: CallCounter<L>,
): void {
  new Counter({
    name,
    help,
    labelNames: ['provider', label],
    registers: [registry],
    async collect() {
      const snapshots = await snapshot()
      setCounter(
        this,
        snapshots.flatMap((s) =>
          values.map((value) => ({
            labels: { provider: s.provider, [label]: value } as Record<'provider' | L, string>,
            value: Number(s.calls[field(value)] ?? 0),
          })),
        ),
      )
    },
  })
}
