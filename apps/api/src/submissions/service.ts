import { and, asc, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm'
import {
  ANSWER_LIMITS,
  canTransition,
  countWords,
  EVENT_REASONS,
  GRADING_POLICY,
  type CreateSubmissionBody,
  type Skill,
  type ListSubmissionsQuery,
  type Submission,
  type SubmissionPage,
  userActor,
} from '@vstep/contracts'
import { type Database, grades, reviews, submissions } from '@vstep/db'
import type { CurrentUser } from '../auth/guard'
import type { Config } from '../config'
import type { AppDeps } from '../deps'
import { conflict, forbidden, invalidField, notFound, ProblemError } from '../platform/problem'
import { setEventActor, transactionWithRetry } from '../platform/transaction'
import { purgeDeletedAudio } from './audio'
import { dequeueGrading, enqueueGrading, reenqueueGrading } from './grading-queue'
import { lockSubmissionOwner } from './locks'
import { taskFacts } from './task-facts'
import { findSubmissionRow, gradesOf, toSubmission, toSubmissionSummary, type SubmissionRow } from './queries'

/**
 * The grading deadline of a new (or retried) submission, by skill: GRADING_POLICY's defaults unless
 * configured. A sweeper fails submissions still ungraded past theirs.
 */
const deadlineMinutes = (config: Config, skill: Skill) =>
  skill === 'writing' ? config.GRADING_DEADLINE_WRITING_MINUTES : config.GRADING_DEADLINE_SPEAKING_MINUTES
export const deadlineFor = (config: Config, skill: Skill) => sql`now() + make_interval(mins => ${deadlineMinutes(config, skill)})`

/** The fingerprint of a request body under an Idempotency-Key: same key + other body is a conflict. */
export function requestHash(body: CreateSubmissionBody): string {
  return new Bun.CryptoHasher('sha256').update(JSON.stringify([body.taskId, body.answerText])).digest('hex')
}

export type CreateOutcome = { submission: Submission; replayed: boolean }

/** An Idempotency-Key header, when sent, must match the contract's pattern (422 otherwise). */
export function assertIdempotencyKey(idempotencyKey: string | undefined): void {
  if (idempotencyKey !== undefined && !ANSWER_LIMITS.idempotencyKeyPattern.test(idempotencyKey)) {
    throw invalidField('header.idempotency-key', 'must be 1–255 visible ASCII characters')
  }
}

export async function replayOf(deps: AppDeps, userId: string, key: string, hash: string): Promise<CreateOutcome | null> {
  const [existing] = await deps.db
    .select()
    .from(submissions)
    .where(and(eq(submissions.userId, userId), eq(submissions.idempotencyKey, key)))
  if (!existing) return null
  if (existing.requestHash !== hash) {
    throw new ProblemError(409, 'Conflict', 'this Idempotency-Key was already used with a different request body', {
      type: 'https://vstep.example/problems/idempotency-key-reused',
    })
  }
  return { submission: toSubmission(existing, await gradesOf(deps.db, existing.id)), replayed: true }
}

/**
 * Stores a text answer and queues it for grading (or for a human, in `human` mode). With an
 * Idempotency-Key, the unique index on (user_id, idempotency_key) makes concurrent duplicates
 * collapse into one row: the losers of the race get the winner's submission back.
 */
const conflictTarget = { target: [submissions.userId, submissions.idempotencyKey], where: sql`${submissions.idempotencyKey} is not null` }

/**
 * The insert of a text answer graded by the AI, as ONE statement committed on its own: the event
 * trigger's per-user lock (migration 0008) is held for the commit only, not across round trips and
 * this process's event loop. The owner's id is an SQL value that also sets the trigger's actor
 * (`vstep.actor`, transaction-local) while the row is built, so no transaction is needed for it.
 * Prepared once per database handle: drizzle builds the SQL text once, not per submission.
 */
const aiInserts = new WeakMap<Database, ReturnType<typeof prepareAiInsert>>()
function prepareAiInsert(db: Database) {
  const p = <T extends string>(name: T) => sql.placeholder(name)
  return db
    .insert(submissions)
    .values({
      userId: sql`(select ${p('userId')}::uuid from (select set_config('vstep.actor', ${p('actor')}, true)) as actor)`,
      taskId: p('taskId'),
      skill: p('skill'),
      status: 'pending',
      gradingMode: p('gradingMode'),
      answerText: p('answerText'),
      wordCount: p('wordCount'),
      idempotencyKey: p('idempotencyKey'),
      requestHash: p('requestHash'),
      deadlineAt: sql`now() + make_interval(mins => ${p('deadlineMinutes')})`,
    })
    .onConflictDoNothing(conflictTarget)
    .returning()
    .prepare('submission_ai_insert')
}
const aiInsertOf = (db: Database) => {
  let prepared = aiInserts.get(db)
  if (!prepared) aiInserts.set(db, (prepared = prepareAiInsert(db)))
  return prepared
}

export async function createSubmission(
  deps: AppDeps,
  user: CurrentUser,
  body: CreateSubmissionBody,
  idempotencyKey?: string,
): Promise<CreateOutcome> {
  assertIdempotencyKey(idempotencyKey)
  const hash = requestHash(body)
  if (idempotencyKey) {
    const replay = await replayOf(deps, user.id, idempotencyKey, hash)
    if (replay) return replay
  }

  const task = await taskFacts(deps).get(body.taskId) // held in memory (task-facts.ts)
  if (!task) throw invalidField('taskId', 'no task has this id')
  if (task.skill !== 'writing') throw invalidField('answerText', 'speaking tasks take a recorded audio answer, not text')
  const wordCount = countWords(body.answerText)
  if (wordCount === 0) throw invalidField('answerText', 'must contain words')
  if (wordCount > ANSWER_LIMITS.maxWords) throw invalidField('answerText', `must be at most ${ANSWER_LIMITS.maxWords} words`)

  const toHuman = task.gradingMode === 'human'
  const row = toHuman
    ? await deps.db.transaction(async (tx) => {
        await setEventActor(tx, userActor(user.id))
        const [inserted] = await tx
          .insert(submissions)
          .values({
            userId: user.id,
            taskId: task.id,
            skill: task.skill,
            status: 'review_pending',
            gradingMode: task.gradingMode,
            reviewPriority: GRADING_POLICY.humanModePriority,
            answerText: body.answerText,
            wordCount,
            idempotencyKey: idempotencyKey ?? null,
            requestHash: idempotencyKey ? hash : null,
            deadlineAt: null,
          })
          .onConflictDoNothing(conflictTarget)
          .returning()
        if (!inserted) return null // a concurrent request with the same key won
        await tx.insert(reviews).values({ submissionId: inserted.id, priority: GRADING_POLICY.humanModePriority, reason: 'human_mode' })
        return inserted
      })
    : ((
        await aiInsertOf(deps.db).execute({
          userId: user.id,
          actor: userActor(user.id),
          taskId: task.id,
          skill: task.skill,
          gradingMode: task.gradingMode,
          answerText: body.answerText,
          wordCount,
          idempotencyKey: idempotencyKey ?? null,
          requestHash: idempotencyKey ? hash : null,
          deadlineMinutes: deadlineMinutes(deps.config, task.skill),
        })
      )[0] ?? null)
  if (!row) {
    const replay = await replayOf(deps, user.id, idempotencyKey!, hash)
    if (!replay) throw new Error('idempotency conflict without a stored submission')
    return replay
  }
  if (!toHuman) await enqueueGrading(deps, row.id)
  return { submission: toSubmission(row, []), replayed: false }
}

/** Learners see their own submissions; instructors and admins see all. Anything else is "not found". */
export async function readableSubmissionRow(deps: AppDeps, user: CurrentUser, id: string) {
  const row = await findSubmissionRow(deps.db, id)
  if (!row || (row.userId !== user.id && user.role === 'learner')) throw notFound('submission')
  return row
}

/** Changing a submission (retry, delete) is for its owner or an admin. */
async function ownedSubmissionRow(deps: AppDeps, user: CurrentUser, id: string) {
  const row = await readableSubmissionRow(deps, user, id)
  if (row.userId !== user.id && user.role !== 'admin') throw forbidden('only the owner or an admin may change this submission')
  return row
}

export async function getSubmission(deps: AppDeps, user: CurrentUser, id: string): Promise<Submission> {
  const row = await readableSubmissionRow(deps, user, id)
  return toSubmission(row, await gradesOf(deps.db, id))
}

// ---------------------------------------------------------------------------------------------
// List with an opaque cursor over (created_at, id), newest first.

type Cursor = { at: string; id: string }
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url')
const CURSOR_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Exactly the UTC microsecond timestamp encodeCursor writes, and a real calendar instant PostgreSQL accepts. */
function isCursorInstant(at: string): boolean {
  const m = CURSOR_AT.exec(at)
  if (!m) return false
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second))
  // Date.UTC rolls 2024-02-30 over to March; a round trip catches it.
  return year >= 1 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60
}

/** A cursor this API did not issue (forged, truncated, edited) is a 422 on `query.cursor`, never a database error. */
export function decodeCursor(raw: string): Cursor {
  try {
    const decoded = JSON.parse(Buffer.from(raw, 'base64url').toString()) as unknown
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [at, id] = decoded as [unknown, unknown]
      if (typeof at === 'string' && typeof id === 'string' && isCursorInstant(at) && UUID.test(id)) return { at, id }
    }
  } catch {
    // fall through
  }
  throw invalidField('query.cursor', 'is not a cursor this API issued')
}

const isDateOnly = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s)

export async function listSubmissions(deps: AppDeps, user: CurrentUser, q: ListSubmissionsQuery): Promise<SubmissionPage> {
  const where: SQL[] = [eq(submissions.userId, user.id)]
  if (q.status) where.push(eq(submissions.status, q.status))
  if (q.skill) where.push(eq(submissions.skill, q.skill))
  if (q.taskId) where.push(eq(submissions.taskId, q.taskId))
  if (q.from) where.push(gte(submissions.createdAt, sql`${q.from}::timestamptz`))
  // A date-only `to` includes that whole day; a date-time `to` is exclusive.
  if (q.to) where.push(lt(submissions.createdAt, isDateOnly(q.to) ? sql`${q.to}::date + 1` : sql`${q.to}::timestamptz`))
  if (q.cursor) {
    const c = decodeCursor(q.cursor)
    where.push(sql`(${submissions.createdAt}, ${submissions.id}) < (${c.at}::timestamptz, ${c.id}::uuid)`)
  }
  const rows = await deps.db
    .select({
      row: submissions,
      // Microsecond precision: a millisecond JS Date would skip or repeat rows at page edges.
      cursorAt: sql<string>`to_char(${submissions.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
      overall: sql<string | null>`(select g.overall from ${grades} g where g.submission_id = ${submissions.id}
        order by (g.source = 'human') desc limit 1)`,
    })
    .from(submissions)
    .where(and(...where))
    .orderBy(desc(submissions.createdAt), desc(submissions.id))
    .limit(q.limit + 1)
  const page = rows.slice(0, q.limit)
  const last = page.at(-1)
  return {
    items: page.map((r) => toSubmissionSummary(r.row, r.overall == null ? null : Number(r.overall))),
    nextCursor: rows.length > q.limit && last ? encodeCursor({ at: last.cursorAt, id: last.row.id }) : null,
  }
}

// ---------------------------------------------------------------------------------------------
// Retry and delete.

/**
 * failed → pending, then a fresh arq job with the same id (the old result key is cleared first).
 * A late AI result (kept when the deadline had already failed the submission) is replaced by the
 * new attempt, so it is removed here; the retry's result will be the submission's grade.
 */
export async function retrySubmission(deps: AppDeps, user: CurrentUser, id: string): Promise<Submission> {
  await ownedSubmissionRow(deps, user, id)
  // The lock order (locks.ts): the owner's row first, so an account delete is waited for, not
  // deadlocked with; a deadlock with a writer outside that order is retried.
  const row = await transactionWithRetry(deps.db, async (tx) => {
    await lockSubmissionOwner(tx, id)
    const [current] = await tx.select().from(submissions).where(eq(submissions.id, id)).for('update')
    if (!current) throw notFound('submission')
    if (!canTransition(current.status, 'pending')) {
      throw conflict(`a ${current.status} submission cannot be retried; only a failed one can`)
    }
    await setEventActor(tx, userActor(user.id), EVENT_REASONS.retry)
    if (current.late) await tx.delete(grades).where(and(eq(grades.submissionId, id), eq(grades.source, 'ai')))
    const [updated] = await tx
      .update(submissions)
      .set({ status: 'pending', lastErrorCode: null, late: false, deadlineAt: deadlineFor(deps.config, current.skill) })
      .where(eq(submissions.id, id))
      .returning()
    return updated as SubmissionRow
  })
  await reenqueueGrading(deps, id)
  return toSubmission(row, await gradesOf(deps.db, id))
}

/** Hard delete (grades, reviews and events cascade); a queued job is removed too, and a recording is purged from storage. */
export async function deleteSubmission(deps: AppDeps, user: CurrentUser, id: string): Promise<void> {
  const row = await ownedSubmissionRow(deps, user, id)
  await deps.db.delete(submissions).where(eq(submissions.id, id))
  await dequeueGrading(deps, id)
  if (row.audioRef) await purgeDeletedAudio(deps)
}

/**
 * Puts back on the queue what the database says still needs grading but Redis may have lost:
 * `pending` rows older than `pendingAfterSeconds` (Redis was down at submit time, or restarted),
 * and `processing` rows untouched for `processingAfterSeconds` (a worker died and Redis lost the
 * job with it). The script leaves alone any job that is queued or held by a worker, so a live job
 * is never doubled; a re-run resumes from `processing` and the (submission, source) unique index
 * keeps it to one grade. The grading deadline bounds how long a poisonous job can come back.
 */
export async function reconcileGradingQueue(
  deps: AppDeps,
  options: { pendingAfterSeconds?: number; processingAfterSeconds?: number; limit?: number } = {},
): Promise<number> {
  const pendingAfter = options.pendingAfterSeconds ?? 10
  const processingAfter = options.processingAfterSeconds ?? deps.config.RECONCILE_PROCESSING_AFTER_SECONDS
  const rows = await deps.db
    .select({ id: submissions.id })
    .from(submissions)
    .where(
      or(
        and(eq(submissions.status, 'pending'), lt(submissions.updatedAt, sql`now() - make_interval(secs => ${pendingAfter})`)),
        and(eq(submissions.status, 'processing'), lt(submissions.updatedAt, sql`now() - make_interval(secs => ${processingAfter})`)),
      ),
    )
    .orderBy(asc(submissions.updatedAt))
    .limit(options.limit ?? 500)
  let enqueued = 0
  for (const { id } of rows) if (await reenqueueGrading(deps, id)) enqueued++
  return enqueued
}
