import { GRADE_SUBMISSION_FUNCTION, type GradeSubmissionJob } from '@vstep/contracts'
import type { AppDeps } from '../deps'
import { enqueueJob } from '../queue/arq'

/**
 * Asks the worker to grade one submission. The arq job id is the submission id, so enqueueing twice
 * is a no-op. Returns false when Redis is unreachable: the row is already stored and the
 * reconciler enqueues it later, so the caller never fails because of the queue.
 */
export async function enqueueGrading(deps: AppDeps, submissionId: string): Promise<boolean> {
  const kwargs: GradeSubmissionJob = { submission_id: submissionId }
  try {
    await deps.redis.run((client) =>
      enqueueJob(client, GRADE_SUBMISSION_FUNCTION, [], kwargs, { jobId: submissionId, queueName: deps.config.ARQ_QUEUE_NAME }),
    )
    return true
  } catch (error) {
    deps.redis.warn('could not enqueue a grading job; the reconciler will retry', error)
    return false
  }
}
