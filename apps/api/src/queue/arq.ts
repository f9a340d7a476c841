import type { RedisClient } from 'bun'
import { ARQ_KEYS, DEFAULT_QUEUE_NAME, type ArqJobRecord } from '@vstep/contracts'

/**
 * A producer and status reader for arq's Redis protocol (arq 0.26–0.28), so TypeScript can enqueue
 * jobs a Python arq worker runs. The key layout and semantics are arq's; see docs/arq-protocol.md.
 */
export const JOB_KEY_PREFIX = ARQ_KEYS.jobPrefix
export const RESULT_KEY_PREFIX = ARQ_KEYS.resultPrefix
export const IN_PROGRESS_KEY_PREFIX = ARQ_KEYS.inProgressPrefix
const DAY_MS = 86_400_000

/**
 * arq's `enqueue_job` is WATCH/EXISTS/MULTI; on an auto-pipelined client that is unsafe, so the same
 * check-and-set runs as one Lua script. A job is refused while its job key or its result key exists.
 */
export const ENQUEUE_SCRIPT = `
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1`

export type EnqueueOptions = {
  jobId?: string
  queueName?: string
  /** Run no earlier than this epoch-ms instant. */
  deferUntilMs?: number
  deferByMs?: number
  /** TTL of the job key; defaults to arq's (time until it may run + one day). */
  expiresMs?: number
  jobTry?: number
  now?: number
}

export type ArqRedis = Pick<RedisClient, 'send'>

/** Builds the stored record and the Lua arguments; pure, so the arithmetic is unit-tested. */
export function buildEnqueue(fn: string, args: unknown[], kwargs: Record<string, unknown>, o: EnqueueOptions = {}) {
  if (o.deferUntilMs != null && o.deferByMs) throw new Error('use deferUntilMs or deferByMs, not both')
  const now = Math.round(o.now ?? Date.now())
  const id = o.jobId ?? crypto.randomUUID().replaceAll('-', '')
  // arq never starts a job whose score is 0, so the score is clamped to at least 1.
  const score = Math.max(1, Math.round(o.deferUntilMs ?? (o.deferByMs ? now + o.deferByMs : now)))
  // A past deferUntil would make arq's TTL negative (PSETEX fails); clamp it.
  const expiresMs = Math.max(1, Math.round(o.expiresMs || score - now + DAY_MS))
  const record: ArqJobRecord = { t: o.jobTry ?? null, f: fn, a: args, k: kwargs, et: now }
  return { id, score, expiresMs, record, queueName: o.queueName ?? DEFAULT_QUEUE_NAME }
}

/** Enqueues one job. Returns its id, or null when arq would call it a duplicate. */
export async function enqueueJob(
  redis: ArqRedis,
  fn: string,
  args: unknown[] = [],
  kwargs: Record<string, unknown> = {},
  options: EnqueueOptions = {},
): Promise<string | null> {
  const job = buildEnqueue(fn, args, kwargs, options)
  const added = await redis.send('EVAL', [
    ENQUEUE_SCRIPT,
    '3',
    JOB_KEY_PREFIX + job.id,
    RESULT_KEY_PREFIX + job.id,
    job.queueName,
    JSON.stringify(job.record),
    String(job.expiresMs),
    String(job.score),
    job.id,
  ])
  return Number(added) === 1 ? job.id : null
}

export type ArqJobStatus = 'deferred' | 'queued' | 'in_progress' | 'complete' | 'not_found'

const STATUS_SCRIPT = `
return {redis.call('EXISTS', KEYS[1]), redis.call('EXISTS', KEYS[2]), redis.call('ZSCORE', KEYS[3], ARGV[1])}`

/** The same answer as arq's `Job(id).status()`, read atomically. */
export async function jobStatus(redis: ArqRedis, id: string, queueName = DEFAULT_QUEUE_NAME, now = Date.now()): Promise<ArqJobStatus> {
  const reply = (await redis.send('EVAL', [STATUS_SCRIPT, '3', RESULT_KEY_PREFIX + id, IN_PROGRESS_KEY_PREFIX + id, queueName, id])) as [
    number,
    number,
    string | number | null,
  ]
  const [hasResult, inProgress, rawScore] = reply
  if (Number(hasResult) === 1) return 'complete'
  if (Number(inProgress) === 1) return 'in_progress'
  const score = rawScore == null ? 0 : Number(rawScore)
  if (!score) return 'not_found'
  return score > now ? 'deferred' : 'queued'
}

export type ArqResult = {
  t: number
  f: string
  a: unknown[]
  k: Record<string, unknown>
  et: number
  s: boolean
  r: unknown
  st: number
  ft: number
  q?: string
  id?: string
}

/** arq's `Job(id).result_info()`: the stored result record, or null. */
export async function jobResult(redis: ArqRedis, id: string): Promise<ArqResult | null> {
  const raw = (await redis.send('GET', [RESULT_KEY_PREFIX + id])) as string | null
  return raw == null ? null : (JSON.parse(raw) as ArqResult)
}
