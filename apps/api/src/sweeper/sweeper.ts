import { ACTORS, AI_GRADING_STATUSES, EVENT_REASONS, type LastErrorCode } from '@vstep/contracts'
import { sql } from 'drizzle-orm'
import type { AppDeps } from '../deps'
import { dequeueGrading } from '../submissions/grading-queue'
import { errorFields, log } from '../platform/logger'
import { setEventActor, transactionWithRetry, type Tx } from '../platform/transaction'

export const SWEEPER_ACTOR = ACTORS.sweeper
const TIMEOUT: LastErrorCode = 'timeout'

/**
 * Fails submissions still under AI grading (AI_GRADING_STATUSES: `pending`, `processing`) past their
 * grading deadline, with reason `timeout`
 * (the event) and last_error_code 'timeout' (the row). SKIP LOCKED: a row the worker is writing
 * right now is left for the next sweep, so a result committed just in time wins. Queued jobs of
 * swept submissions are removed; a job already running may still finish: the worker then keeps
 * its grade and flags the submission `late` (see docs/lifecycle.md). review_pending has no deadline.
 */
export async function sweepOverdue(deps: AppDeps, limit = 200): Promise<string[]> {
  // A deadlock or serialization failure that still happens (a writer outside the lock order) rolls
  // the whole sweep back, so running it again is safe.
  const ids = await transactionWithRetry(deps.db, (tx) => sweepIn(tx, limit), { attempts: 4 })
  for (const id of ids) await dequeueGrading(deps, id)
  return ids
}

async function sweepIn(tx: Tx, limit: number): Promise<string[]> {
  // One sweep at a time across instances: a sweep writes events of several users, each event
  // taking its user's commit-order lock (migration 0008); two sweeps taking those in crossed
  // orders could deadlock. Every other writer changes one submission, so holds one such lock.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('vstep:sweeper'))`)
  await setEventActor(tx, SWEEPER_ACTOR, EVENT_REASONS.timeout)
  const grading = sql.join(
    AI_GRADING_STATUSES.map((s) => sql`${s}::submission_status`),
    sql`, `,
  )
  const candidates = (await tx.execute(sql`
    select id, user_id from submissions
    where status in (${grading}) and deadline_at < now()
    order by deadline_at
    limit ${limit}`)) as unknown as { id: string; user_id: string }[]
  if (candidates.length === 0) return []
  // The lock order of every submission writer (submissions/locks.ts): the owners' rows first, in
  // id order, then the submissions. Locking a submission first and its owner second (as the event's
  // foreign key would) deadlocks with an account delete, which locks the user, then its submissions.
  // An owner deleted meanwhile is not returned, and its submissions are gone by the next statement.
  const owners = [...new Set(candidates.map((c) => c.user_id))]
  await tx.execute(
    sql`select 1 from users where id in (${sql.join(
      owners.map((id) => sql`${id}::uuid`),
      sql`, `,
    )}) order by id for key share`,
  )
  const rows = (await tx.execute(sql`
    update submissions set status = 'failed', last_error_code = ${TIMEOUT}
    where id in (
      select id from submissions
      where id in (${sql.join(
        candidates.map((c) => sql`${c.id}::uuid`),
        sql`, `,
      )}) and status in (${grading}) and deadline_at < now()
      for update skip locked
    )
    returning id`)) as unknown as { id: string }[]
  return rows.map((r) => r.id)
}

/** Runs the sweeper every `intervalMs`; returns a stop function. */
export function startSweeper(deps: AppDeps, intervalMs = 30_000): () => void {
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    sweepOverdue(deps)
      .then((ids) => {
        if (ids.length) log.info({ component: 'sweeper', failed: ids.length }, 'submissions past their deadline failed with reason timeout')
      })
      .catch((error) => log.error({ component: 'sweeper', ...errorFields(error) }, 'sweeper failed'))
      .finally(() => {
        running = false
      })
  }, intervalMs)
  return () => clearInterval(timer)
}
