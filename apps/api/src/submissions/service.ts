import { and, eq, lt, sql } from 'drizzle-orm'
import type { CreateSubmissionBody, Submission } from '@vstep/contracts'
import { reviews, submissions, tasks } from '@vstep/db'
import type { CurrentUser } from '../auth/guard'
import type { AppDeps } from '../deps'
import { invalidField, notFound } from '../platform/problem'
import { enqueueGrading } from './grading-queue'
import { findSubmissionRow, gradesOf, toSubmission } from './queries'
import { countWords } from './text'

/** Grading deadlines by skill; a sweeper fails submissions still ungraded past theirs. */
export const GRADING_DEADLINE_MINUTES = { writing: 20, speaking: 60 } as const

/** Stores a text answer and queues it for grading (or for a human, in `human` mode). */
export async function createSubmission(deps: AppDeps, user: CurrentUser, body: CreateSubmissionBody): Promise<Submission> {
  const [task] = await deps.db.select().from(tasks).where(eq(tasks.id, body.taskId))
  if (!task) throw invalidField('taskId', 'no task has this id')
  if (task.skill !== 'writing') throw invalidField('answerText', 'speaking tasks take a recorded audio answer, not text')

  const toHuman = task.gradingMode === 'human'
  const row = await deps.db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('vstep.actor', ${`user:${user.id}`}, true)`)
    const [inserted] = await tx
      .insert(submissions)
      .values({
        userId: user.id,
        taskId: task.id,
        skill: task.skill,
        status: toHuman ? 'review_pending' : 'pending',
        gradingMode: task.gradingMode,
        reviewPriority: toHuman ? 'medium' : null,
        answerText: body.answerText,
        wordCount: countWords(body.answerText),
        deadlineAt: toHuman ? null : sql`now() + make_interval(mins => ${GRADING_DEADLINE_MINUTES[task.skill]})`,
      })
      .returning()
    if (!inserted) throw new Error('submission insert returned nothing')
    if (toHuman) await tx.insert(reviews).values({ submissionId: inserted.id, priority: 'medium', reason: 'human_mode' })
    return inserted
  })
  if (!toHuman) await enqueueGrading(deps, row.id)
  return toSubmission(row, [])
}

/** Learners see their own submissions; instructors and admins see all. Anything else is "not found". */
export async function readableSubmissionRow(deps: AppDeps, user: CurrentUser, id: string) {
  const row = await findSubmissionRow(deps.db, id)
  if (!row || (row.userId !== user.id && user.role === 'learner')) throw notFound('submission')
  return row
}

export async function getSubmission(deps: AppDeps, user: CurrentUser, id: string): Promise<Submission> {
  const row = await readableSubmissionRow(deps, user, id)
  return toSubmission(row, await gradesOf(deps.db, id))
}

/**
 * Re-enqueues `pending` submissions older than `minAgeSeconds`: covers a Redis outage at submit time
 * and a Redis restart that lost the queue. arq refuses ids it already holds, so this is idempotent.
 */
export async function reconcilePending(deps: AppDeps, minAgeSeconds = 10, limit = 500): Promise<number> {
  const rows = await deps.db
    .select({ id: submissions.id })
    .from(submissions)
    .where(and(eq(submissions.status, 'pending'), lt(submissions.createdAt, sql`now() - make_interval(secs => ${minAgeSeconds})`)))
    .limit(limit)
  let enqueued = 0
  for (const { id } of rows) if (await enqueueGrading(deps, id)) enqueued++
  return enqueued
}
