import { ARQ_KEYS, GRADE_SUBMISSION_FUNCTION, type GradeSubmissionJob } from '@vstep/contracts'
import type { AppDeps } from '../deps'
import { log } from '../platform/logger'
import { currentRequestId } from '../platform/request-context'
import { buildEnqueue, enqueueJob, IN_PROGRESS_KEY_PREFIX, JOB_KEY_PREFIX, RESULT_KEY_PREFIX } from '../queue/arq'

/** arq's per-job try counter; deleting it gives a retried submission its full retry budget again. */
export const RETRY_KEY_PREFIX = ARQ_KEYS.retryPrefix

/**
 * The job's arguments; inside a request, its id too, so the worker's log lines for this submission
 * carry the id of the request that asked for it (the reconciler's re-enqueues have none).
 */
export function jobKwargs(submissionId: string, requestId = currentRequestId()): GradeSubmissionJob {
  return requestId ? { submission_id: submissionId, request_id: requestId } : { submission_id: submissionId }
}

/**
 * Asks the worker to grade one submission. The arq job id is the submission id, so enqueueing twice
 * is a no-op. Returns false when Redis is unreachable: the row is already stored and the
 * reconciler enqueues it later, so the caller never fails because of the queue.
 */
export async function enqueueGrading(deps: AppDeps, submissionId: string): Promise<boolean> {
  const kwargs = jobKwargs(submissionId)
  try {
    const id = await deps.redis.run((client) =>
      enqueueJob(client, GRADE_SUBMISSION_FUNCTION, [], kwargs, { jobId: submissionId, queueName: deps.config.ARQ_QUEUE_NAME }),
    )
    log.info({ submission_id: submissionId, enqueued: id !== null }, 'grading job enqueued')
    return true
  } catch (error) {
    deps.redis.warn('could not enqueue a grading job; the reconciler will retry', error)
    return false
  }
}

/**
 * Enqueues a job for a submission the database says is `pending`, clearing what an earlier attempt
 * left behind: arq refuses an id while `arq:result:<id>` exists, so a retried (failed → pending)
 * submission would never run again. A job that is queued or running is left alone (returns 0).
 * KEYS: job, result, queue, in-progress, retry. ARGV: record, ttl ms, score, id.
 */
export const REENQUEUE_SCRIPT = `
if redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('ZSCORE', KEYS[3], ARGV[4]) then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[5])
redis.call('PSETEX', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1`

/** Removes a queued (not running) job, for a submission that was deleted or timed out. */
export const DEQUEUE_SCRIPT = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1`

export async function reenqueueGrading(deps: AppDeps, submissionId: string): Promise<boolean> {
  const kwargs = jobKwargs(submissionId)
  const job = buildEnqueue(GRADE_SUBMISSION_FUNCTION, [], kwargs, { jobId: submissionId, queueName: deps.config.ARQ_QUEUE_NAME })
  try {
    await deps.redis.run((client) =>
      client.send('EVAL', [
        REENQUEUE_SCRIPT,
        '5',
        JOB_KEY_PREFIX + job.id,
        RESULT_KEY_PREFIX + job.id,
        job.queueName,
        IN_PROGRESS_KEY_PREFIX + job.id,
        RETRY_KEY_PREFIX + job.id,
        JSON.stringify(job.record),
        String(job.expiresMs),
        String(job.score),
        job.id,
      ]),
    )
    return true
  } catch (error) {
    deps.redis.warn('could not re-enqueue a grading job; the reconciler will retry', error)
    return false
  }
}

export async function dequeueGrading(deps: AppDeps, submissionId: string): Promise<void> {
  try {
    await deps.redis.run((client) =>
      client.send('EVAL', [
        DEQUEUE_SCRIPT,
        '3',
        JOB_KEY_PREFIX + submissionId,
        deps.config.ARQ_QUEUE_NAME,
        IN_PROGRESS_KEY_PREFIX + submissionId,
        submissionId,
      ]),
    )
  } catch (error) {
    // The worker re-checks the row before grading, so a leftover job is harmless.
    deps.redis.warn('could not remove a grading job', error)
  }
}
