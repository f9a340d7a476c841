import type { RedisClient } from 'bun'
import { renderGauge } from './registry'

/**
 * The grading worker's circuit breakers, for /metrics. The worker has no HTTP server: its breakers
 * live in Redis (one Lua script, shared by every worker process; see
 * workers/grader-py/src/grader/breaker/redis_breaker.py), so the API reads them at scrape time:
 * `grader:breakers` (set of provider names), `grader:breaker:<p>` (hash: state) and
 * `grader:breaker:<p>:calls` (hash of counters: success, failure, rejected, to_open, to_half_open,
 * to_closed). Counters are totals since the Redis data began, summed over all workers.
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

/** Prometheus text: grader_breaker_state{provider} (0 closed, 1 open, 2 half-open), calls by outcome, transitions. */
export function renderBreakers(snapshots: BreakerSnapshot[]): string {
  const counter = (name: string, help: string, samples: { labels: Record<string, string>; value: number }[]) =>
    renderGauge(name, help, samples).replace(`# TYPE ${name} gauge`, `# TYPE ${name} counter`)
  return [
    renderGauge(
      'grader_breaker_state',
      'Circuit breaker of each AI provider: 0 closed, 1 open, 2 half-open (as last written by a worker)',
      snapshots.map((s) => ({ labels: { provider: s.provider }, value: BREAKER_STATE_VALUE[s.state] ?? Number.NaN })),
    ),
    counter(
      'grader_provider_calls_total',
      'AI provider calls by outcome: success, failure (transient error), rejected (breaker open, no call made)',
      snapshots.flatMap((s) => CALL_OUTCOMES.map((outcome) => ({ labels: { provider: s.provider, outcome }, value: Number(s.calls[outcome] ?? 0) }))),
    ),
    counter(
      'grader_breaker_transitions_total',
      'Circuit breaker state changes by the state entered',
      snapshots.flatMap((s) => TRANSITIONS.map((to) => ({ labels: { provider: s.provider, to }, value: Number(s.calls[`to_${to}`] ?? 0) }))),
    ),
  ].join('\n')
}
