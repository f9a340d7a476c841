import { ACTORS, AI_GRADING_STATUSES, EVENT_REASONS, type LastErrorCode } from '@vstep/contracts'
import { sql } from 'drizzle-orm'
import type { AppDeps } from '../deps'
import { dequeueGrading } from '../submissions/grading-queue'
import { errorFields, log } from '../platform/logger'

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
  const ids = await deps.db.transaction(async (tx) => {
    // One sweep at a time across instances: a sweep writes events of several users, each event
    // taking its user's commit-order lock (migration 0008); two sweeps taking those in crossed
    // orders could deadlock. Every other writer changes one submission, so holds one such lock.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('vstep:sweeper'))`)
    await tx.execute(
      sql`select set_config('vstep.actor', ${SWEEPER_ACTOR}, true), set_config('vstep.reason', ${EVENT_REASONS.timeout}, true)`,
    )
    const rows = (await tx.execute(sql`
      update submissions set status = 'failed', last_error_code = ${TIMEOUT}
      where id in (
        select id from submissions
        where status in (${sql.join(
          AI_GRADING_STATUSES.map((s) => sql`${s}::submission_status`),
          sql`, `,
        )}) and deadline_at < now()
        order by deadline_at
        limit ${limit}
        for update skip locked
      )
      returning id`)) as unknown as { id: string }[]
    return rows.map((r) => r.id)
  })
  for (const id of ids) await dequeueGrading(deps, id)
  return ids
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
