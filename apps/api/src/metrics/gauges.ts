import { ARQ_KEYS } from '@vstep/contracts'
import { type SQL, sql } from 'drizzle-orm'
import { Gauge, type Registry } from 'prom-client'
import type { AppDeps } from '../deps'
import { readBreakers, registerBreakerMetrics } from './breakers'
import { shared } from './scrape'

/**
 * One Lua call for the queue: its size (queued, deferred and running jobs, as arq keeps them all in the
 * sorted set) and the score (enqueue or due time, epoch ms) of the oldest job that is due and that no
 * worker holds: how long the oldest waiting submission has waited. Only the first 200 due jobs are
 * looked at; past that the queue is plainly backed up anyway.
 */
export const QUEUE_SCRIPT = `
local depth = redis.call('ZCARD', KEYS[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, 200)
for i = 1, #due, 2 do
  if redis.call('EXISTS', ARGV[2] .. due[i]) == 0 then return {depth, due[i + 1]} end
end
return {depth, false}`

export type QueueSnapshot = { depth: number; oldestWaitingSeconds: number }

/** Seconds the oldest waiting job has waited at `nowMs` (0 when none waits). Pure, unit-tested. */
export function queueSnapshotOf(reply: unknown, nowMs: number): QueueSnapshot {
  const [depth, score] = Array.isArray(reply) ? reply : [Number.NaN, null]
  const waitedMs = score === null || score === undefined || score === false ? 0 : Math.max(0, nowMs - Number(score))
  return { depth: Number(depth), oldestWaitingSeconds: waitedMs / 1000 }
}

/**
 * Gauges read at scrape time: submissions by status, open reviews by priority (PostgreSQL), the queue
 * (Redis), live SSE streams of this process, and the worker breakers (Redis). A store that is down
 * leaves its series out (the queue: NaN) instead of failing the scrape, so the process metrics still
 * arrive during an outage.
 */
export function registerScrapeGauges(registry: Registry, deps: AppDeps): void {
  const queue = shared(() =>
    deps.redis
      .run((c) => c.send('EVAL', [QUEUE_SCRIPT, '1', deps.config.ARQ_QUEUE_NAME, String(Date.now()), ARQ_KEYS.inProgressPrefix]))
      .then(
        (reply) => queueSnapshotOf(reply, Date.now()),
        () => ({ depth: Number.NaN, oldestWaitingSeconds: Number.NaN }),
      ),
  )
  new Gauge({
    name: 'vstep_queue_depth',
    help: 'Jobs in the arq queue: queued, deferred or running (NaN when Redis is down)',
    registers: [registry],
    async collect() {
      this.set((await queue()).depth)
    },
  })
  new Gauge({
    name: 'vstep_queue_oldest_waiting_seconds',
    help: 'Age of the oldest due job that no worker holds yet (0 when none waits; NaN when Redis is down)',
    registers: [registry],
    async collect() {
      this.set((await queue()).oldestWaitingSeconds)
    },
  })
  countGauge(registry, deps, {
    name: 'vstep_submissions',
    help: 'Submissions by status',
    label: 'status',
    query: sql`select status::text as key, count(*)::int as n from submissions group by status`,
  })
  countGauge(registry, deps, {
    name: 'vstep_reviews_open',
    help: 'Open reviews by priority',
    label: 'priority',
    query: sql`select priority::text as key, count(*)::int as n from reviews where completed_at is null group by priority`,
  })
  new Gauge({
    name: 'vstep_sse_subscribers',
    help: 'Open SSE streams in this process',
    registers: [registry],
    collect() {
      this.set(deps.events.subscriberCount)
    },
  })
  registerBreakerMetrics(registry, () => deps.redis.run(readBreakers))
}

type CountGauge = { name: string; help: string; label: string; query: SQL }

/** A gauge {`label`} set at scrape time from `query`'s rows (key, n); no series while PostgreSQL is down. */
function countGauge(registry: Registry, deps: AppDeps, { name, help, label, query }: CountGauge): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    async collect() {
      const rows = await deps.db.execute<{ key: string; n: number }>(query).catch(() => [])
      this.reset()
      for (const r of rows) this.set({ [label]: r.key }, r.n)
    },
  })
}
