import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import { z } from 'zod'
import { Problem } from '@vstep/contracts'
import { deadLetters, submissions } from '@vstep/db'
import { authGuard, type CurrentUser } from '../auth/guard'
import { IdParams } from '../auth/model'
import type { AppDeps } from '../deps'
import { conflict, notFound, ProblemError } from '../platform/problem'
import { retrySubmission } from '../submissions/service'

/**
 * Dead letters: submissions whose AI grading failed for good after every retry (the worker writes
 * one row per failure: provider, reason code, tries, last error). Admins list the open ones and
 * re-queue one or all; a re-queue is the learner's retry (failed → pending, a fresh arq job with a
 * full retry budget) done by an admin, and stamps the row. Only a `failed` submission can be
 * re-queued: a hybrid one went to a human reviewer instead (409).
 */
export const DeadLetter = z.object({
  id: z.uuid(),
  submissionId: z.uuid(),
  provider: z.string(),
  reason: z.string(),
  attempts: z.int(),
  lastError: z.string(),
  createdAt: z.string(),
  requeuedAt: z.string().nullable(),
  submissionStatus: z.string(),
})
export type DeadLetter = z.infer<typeof DeadLetter>
export const DeadLetterList = z.object({ items: z.array(DeadLetter) })
export const DeadLetterQuery = z.object({ include: z.enum(['open', 'all']).default('open') })
export const RequeueAllResult = z.object({ requeued: z.int(), skipped: z.int() })

const LIST_LIMIT = 500

async function listDeadLetters(deps: AppDeps, include: 'open' | 'all'): Promise<DeadLetter[]> {
  const rows = await deps.db
    .select({ d: deadLetters, status: submissions.status })
    .from(deadLetters)
    .innerJoin(submissions, eq(submissions.id, deadLetters.submissionId))
    .where(include === 'open' ? isNull(deadLetters.requeuedAt) : undefined)
    .orderBy(asc(deadLetters.createdAt), asc(deadLetters.id))
    .limit(LIST_LIMIT)
  return rows.map(({ d, status }) => ({
    id: d.id,
    submissionId: d.submissionId,
    provider: d.provider,
    reason: d.reason,
    attempts: d.attempts,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    requeuedAt: d.requeuedAt ? d.requeuedAt.toISOString() : null,
    submissionStatus: status,
  }))
}

/** Re-queues one open dead letter; 404 unknown, 409 already re-queued or the submission is not failed. */
async function requeue(deps: AppDeps, admin: CurrentUser, id: string): Promise<DeadLetter> {
  const [row] = await deps.db.select().from(deadLetters).where(eq(deadLetters.id, id))
  if (!row) throw notFound('dead letter')
  if (row.requeuedAt) throw conflict('this dead letter was already re-queued')
  const submission = await retrySubmission(deps, admin, row.submissionId)
  // Every open dead letter of the submission is settled by this one re-queue.
  await deps.db
    .update(deadLetters)
    .set({ requeuedAt: sql`now()`, requeuedBy: admin.id })
    .where(and(eq(deadLetters.submissionId, row.submissionId), isNull(deadLetters.requeuedAt)))
  const [updated] = await deps.db.select().from(deadLetters).where(eq(deadLetters.id, id))
  return {
    id: row.id,
    submissionId: row.submissionId,
    provider: row.provider,
    reason: row.reason,
    attempts: row.attempts,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    requeuedAt: updated?.requeuedAt?.toISOString() ?? null,
    submissionStatus: submission.status,
  }
}

export const deadLetterRoutes = (deps: AppDeps) =>
  new Elysia()
    .use(authGuard(deps))
    .get('/v1/admin/dead-letters', async ({ query }) => ({ items: await listDeadLetters(deps, query.include) }), {
      auth: ['admin'],
      query: DeadLetterQuery,
      response: { 200: DeadLetterList, 401: Problem, 403: Problem },
      detail: {
        tags: ['admin'],
        summary: 'Admin: submissions whose AI grading failed for good',
        description: `Open dead letters (not yet re-queued), oldest first, at most ${LIST_LIMIT}; include=all lists re-queued ones too.`,
      },
    })
    .post(
      '/v1/admin/dead-letters/requeue',
      async ({ user }) => {
        let requeued = 0
        let skipped = 0
        for (const d of await listDeadLetters(deps, 'open')) {
          try {
            await requeue(deps, user, d.id)
            requeued++
          } catch (error) {
            if (!(error instanceof ProblemError)) throw error
            skipped++ // no longer failed (e.g. a human graded it), or settled meanwhile
          }
        }
        return { requeued, skipped }
      },
      {
        auth: ['admin'],
        response: { 200: RequeueAllResult, 401: Problem, 403: Problem },
        detail: {
          tags: ['admin'],
          summary: 'Admin: re-queue every open dead letter',
          description: 'Those whose submission is no longer failed are skipped.',
        },
      },
    )
    .post('/v1/admin/dead-letters/:id/requeue', ({ params, user }) => requeue(deps, user, params.id), {
      auth: ['admin'],
      params: IdParams,
      response: { 200: DeadLetter, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
      detail: {
        tags: ['admin'],
        summary: 'Admin: grade a dead-lettered submission again',
        description:
          'failed → pending and a fresh arq job with a full retry budget; 409 when already re-queued or the submission is not failed.',
      },
    })
