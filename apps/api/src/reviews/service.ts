import { and, asc, desc, eq, isNull, lt, or, sql, type SQL } from 'drizzle-orm'
import {
  criteriaForSkill,
  EVENT_REASONS,
  GRADING_POLICY,
  overallOf,
  type Review,
  type ReviewDetail,
  type SubmitReviewBody,
  userActor,
} from '@vstep/contracts'
import { gradeCriteria, grades, reviews, submissionEvents, submissions, tasks, users, type Database } from '@vstep/db'
import type { CurrentUser } from '../auth/guard'
import type { AppDeps } from '../deps'
import { conflict, forbidden, invalidField, notFound } from '../platform/problem'
import { setEventActor, transactionWithRetry, type Tx } from '../platform/transaction'
import { lockSubmissionOwner } from '../submissions/locks'
import { gradesOf, toSubmissionSummary, type SubmissionRow } from '../submissions/queries'

type ReviewRow = typeof reviews.$inferSelect

const TAKEOVER = sql`now() - make_interval(mins => ${GRADING_POLICY.claimTakeoverMinutes})`
/** An open review nobody holds, or whose claim is old enough to be taken over. */
const claimable: SQL = and(isNull(reviews.completedAt), or(isNull(reviews.reviewerId), lt(reviews.claimedAt, TAKEOVER)))!
/** Nobody reviews their own answer (a staff member may also practise): the queue skips it for them. */
const notAuthoredBy = (userId: string): SQL =>
  sql`not exists (select 1 from ${submissions} s where s.id = ${reviews.submissionId} and s.user_id = ${userId})`
const ownSubmission = () => forbidden('you may not review your own submission')

/** 403 when `userId` wrote the submission under review. */
async function refuseOwnSubmission(db: Database | Tx, submissionId: string, userId: string): Promise<void> {
  const [row] = await db.select({ userId: submissions.userId }).from(submissions).where(eq(submissions.id, submissionId))
  if (row?.userId === userId) throw ownSubmission()
}
/** The queue order: high → low priority (enum order is low < medium < high), then oldest first. */
const queueOrder = [desc(reviews.priority), asc(reviews.createdAt), asc(reviews.submissionId)] as const

const toReview = (r: ReviewRow, s: SubmissionRow, overall: number | null): Review => ({
  submissionId: r.submissionId,
  priority: r.priority,
  reason: r.reason,
  reviewerId: r.reviewerId,
  claimedAt: r.claimedAt?.toISOString() ?? null,
  completedAt: r.completedAt?.toISOString() ?? null,
  createdAt: r.createdAt.toISOString(),
  submission: toSubmissionSummary(s, overall),
})

export async function reviewQueue(deps: AppDeps, limit: number): Promise<Review[]> {
  const rows = await deps.db
    .select({ review: reviews, submission: submissions })
    .from(reviews)
    .innerJoin(submissions, eq(submissions.id, reviews.submissionId))
    .where(isNull(reviews.completedAt))
    .orderBy(...queueOrder)
    .limit(limit)
  return rows.map((r) => toReview(r.review, r.submission, null))
}

export async function reviewDetail(db: Database, submissionId: string): Promise<ReviewDetail> {
  const [row] = await db
    .select({ review: reviews, submission: submissions, prompt: tasks.prompt })
    .from(reviews)
    .innerJoin(submissions, eq(submissions.id, reviews.submissionId))
    .innerJoin(tasks, eq(tasks.id, submissions.taskId))
    .where(eq(reviews.submissionId, submissionId))
  if (!row) throw notFound('review')
  const list = await gradesOf(db, submissionId)
  const aiGrade = list.find((g) => g.source === 'ai') ?? null
  const humanGrade = list.find((g) => g.source === 'human') ?? null
  const difference = aiGrade && humanGrade ? Math.abs(humanGrade.overall - aiGrade.overall) : null
  return {
    ...toReview(row.review, row.submission, (humanGrade ?? aiGrade)?.overall ?? null),
    answerText: row.submission.answerText,
    taskPrompt: row.prompt,
    aiGrade,
    humanGrade,
    difference,
    disagreement: difference != null && difference > GRADING_POLICY.disagreementAbove,
  }
}

/** Takes the next claimable review; `FOR UPDATE SKIP LOCKED` keeps two reviewers off the same row. */
export async function claimNext(deps: AppDeps, user: CurrentUser): Promise<ReviewDetail | null> {
  const id = await deps.db.transaction(async (tx) => {
    const [next] = await tx
      .select({ id: reviews.submissionId })
      .from(reviews)
      .where(and(claimable, notAuthoredBy(user.id)))
      .orderBy(...queueOrder)
      .limit(1)
      .for('update', { skipLocked: true })
    if (!next) return null
    await tx.update(reviews).set({ reviewerId: user.id, claimedAt: sql`now()` }).where(eq(reviews.submissionId, next.id))
    return next.id
  })
  return id ? reviewDetail(deps.db, id) : null
}

/** Locks one open review; `heldFresh` = someone holds it with a claim too young to take over (database clock). */
async function lockReview(tx: Tx, id: string): Promise<ReviewRow & { heldFresh: boolean }> {
  const [found] = await tx
    .select({ row: reviews, heldFresh: sql<boolean>`(${reviews.reviewerId} is not null and ${reviews.claimedAt} >= ${TAKEOVER})` })
    .from(reviews)
    .where(eq(reviews.submissionId, id))
    .for('update')
  if (!found) throw notFound('review')
  if (found.row.completedAt) throw conflict('this review is already completed')
  return { ...found.row, heldFresh: Boolean(found.heldFresh) }
}

const heldElsewhere = () => conflict('another reviewer holds this review; it can be taken over once the claim is 15 minutes old')

/** Claims one given review: 409 when someone else holds a fresh claim. */
export async function claimOne(deps: AppDeps, user: CurrentUser, id: string): Promise<ReviewDetail> {
  await deps.db.transaction(async (tx) => {
    const row = await lockReview(tx, id)
    await refuseOwnSubmission(tx, id, user.id)
    if (row.reviewerId !== user.id && row.heldFresh) throw heldElsewhere()
    await tx.update(reviews).set({ reviewerId: user.id, claimedAt: sql`now()` }).where(eq(reviews.submissionId, id))
  })
  return reviewDetail(deps.db, id)
}

/** Admin: hands a review to a given instructor or admin, whoever held it. */
export async function assign(deps: AppDeps, id: string, reviewerId: string): Promise<ReviewDetail> {
  const [reviewer] = await deps.db.select({ role: users.role }).from(users).where(eq(users.id, reviewerId))
  if (!reviewer || reviewer.role === 'learner') throw invalidField('reviewerId', 'must be an instructor or an admin')
  const [author] = await deps.db.select({ userId: submissions.userId }).from(submissions).where(eq(submissions.id, id))
  if (author?.userId === reviewerId) throw invalidField('reviewerId', 'may not review their own submission')
  await deps.db.transaction(async (tx) => {
    await lockReview(tx, id)
    await tx.update(reviews).set({ reviewerId, claimedAt: sql`now()` }).where(eq(reviews.submissionId, id))
  })
  return reviewDetail(deps.db, id)
}

/** Gives a claim back to the queue: the holder, or an admin. */
export async function release(deps: AppDeps, user: CurrentUser, id: string): Promise<ReviewDetail> {
  await deps.db.transaction(async (tx) => {
    const row = await lockReview(tx, id)
    if (!row.reviewerId) throw conflict('this review is not claimed')
    if (row.reviewerId !== user.id && user.role !== 'admin') throw conflict('another reviewer holds this review')
    await tx.update(reviews).set({ reviewerId: null, claimedAt: null }).where(eq(reviews.submissionId, id))
  })
  return reviewDetail(deps.db, id)
}

/**
 * Records the human grade beside the AI one (never over it) and completes the review. The caller
 * must hold the claim, or take it now if it is free or stale. review_pending → completed; a spot
 * check of an already completed submission only gains the (final) human grade.
 */
export async function submitReview(deps: AppDeps, user: CurrentUser, id: string, body: SubmitReviewBody): Promise<ReviewDetail> {
  await transactionWithRetry(deps.db, async (tx) => {
    // Lock order shared with the worker and account deletion: owner, submission, then its review.
    await lockSubmissionOwner(tx, id)
    const [submission] = await tx.select().from(submissions).where(eq(submissions.id, id)).for('update')
    const row = await lockReview(tx, id)
    if (!submission) throw notFound('submission')
    if (submission.userId === user.id) throw ownSubmission()
    if (row.reviewerId !== user.id && row.heldFresh) throw heldElsewhere()
    if (submission.status !== 'review_pending' && submission.status !== 'completed') {
      throw conflict(`a ${submission.status} submission cannot be reviewed yet`)
    }

    const expected = criteriaForSkill(submission.skill)
    const given = body.criteria.map((c) => c.criterion)
    const missing = expected.filter((c) => !given.includes(c))
    const extra = given.filter((c) => !expected.includes(c))
    if (missing.length || extra.length || new Set(given).size !== given.length) {
      throw invalidField('criteria', `must score each ${submission.skill} criterion exactly once: ${expected.join(', ')}`)
    }
    const overall = overallOf(body.criteria.map((c) => c.score))
    const [ai] = await tx
      .select({ rubricVersion: grades.rubricVersion })
      .from(grades)
      .where(and(eq(grades.submissionId, id), eq(grades.source, 'ai')))
    const [grade] = await tx
      .insert(grades)
      .values({
        submissionId: id,
        source: 'human',
        overall,
        feedback: body.comment,
        provider: 'human',
        model: 'reviewer',
        rubricVersion: ai?.rubricVersion ?? 'vstep-human',
        confidence: 1,
        gradedBy: user.id,
      })
      .onConflictDoNothing({ target: [grades.submissionId, grades.source] })
      .returning({ id: grades.id })
    if (!grade) throw conflict('this submission already has a human grade')
    await tx
      .insert(gradeCriteria)
      .values(body.criteria.map((c) => ({ gradeId: grade.id, criterion: c.criterion, score: c.score, feedback: c.feedback })))
    await tx
      .update(reviews)
      .set({ reviewerId: user.id, claimedAt: row.reviewerId === user.id ? row.claimedAt : sql`now()`, completedAt: sql`now()` })
      .where(eq(reviews.submissionId, id))
    if (submission.status === 'review_pending') {
      await setEventActor(tx, userActor(user.id), EVENT_REASONS.review)
      await tx.update(submissions).set({ status: 'completed', deadlineAt: null }).where(eq(submissions.id, id))
    } else {
      // A spot check of an already completed submission changes no status, so no trigger writes an
      // event; record one (completed → completed, reason review) so the learner hears of the final
      // grade live like any other change (its insert NOTIFYs on commit).
      await tx.insert(submissionEvents).values({
        submissionId: id,
        userId: submission.userId,
        fromStatus: 'completed',
        toStatus: 'completed',
        actor: userActor(user.id),
        reason: EVENT_REASONS.review,
      })
    }
  })
  return reviewDetail(deps.db, id)
}

/** Admin audit: human grades more than GRADING_POLICY.disagreementAbove away from the AI's. */
export async function gradeDisagreements(deps: AppDeps, limit: number) {
  const rows = (await deps.db.execute(sql`
    select s.id as submission_id, s.skill, a.overall::float8 as ai_overall, h.overall::float8 as human_overall,
           abs(h.overall - a.overall)::float8 as difference, h.graded_by, h.created_at
    from ${grades} h
    join ${grades} a on a.submission_id = h.submission_id and a.source = 'ai'
    join ${submissions} s on s.id = h.submission_id
    where h.source = 'human' and abs(h.overall - a.overall) > ${GRADING_POLICY.disagreementAbove}
    order by h.created_at desc
    limit ${limit}`)) as unknown as {
    submission_id: string
    skill: 'writing' | 'speaking'
    ai_overall: number
    human_overall: number
    difference: number
    graded_by: string | null
    created_at: Date | string
  }[]
  return rows.map((r) => ({
    submissionId: r.submission_id,
    skill: r.skill,
    aiOverall: Number(r.ai_overall),
    humanOverall: Number(r.human_overall),
    difference: Number(r.difference),
    reviewerId: r.graded_by,
    reviewedAt: new Date(r.created_at).toISOString(),
  }))
}
