import type { Database } from '@vstep/db'
import { sql } from 'drizzle-orm'

export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0]

/**
 * SQLSTATEs that say "this transaction lost a race; the same work run again will most likely pass":
 * 40P01 deadlock_detected (PostgreSQL aborted us to break a lock cycle) and 40001
 * serialization_failure. The problem handler answers 503 + Retry-After if one still escapes.
 */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['40P01', '40001'])

/** The SQLSTATE of a postgres.js error, possibly wrapped by Drizzle (`cause`). */
export function sqlStateOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code
  }
  return undefined
}

export const isRetryableConflict = (error: unknown): boolean => RETRYABLE_SQLSTATES.has(sqlStateOf(error) ?? '')

export type RetryOptions = {
  /** Runs in all, the first included. */
  attempts?: number
  /** Upper bound of the first pause; it doubles each time, with full jitter. */
  baseDelayMs?: number
}

/**
 * `db.transaction(work)`, run again (at most `attempts` runs) when PostgreSQL aborts it with a
 * deadlock or a serialization failure. `work` must be safe to repeat: everything it wrote was
 * rolled back with the aborted transaction, but side effects outside the database were not.
 */
export async function transactionWithRetry<T>(db: Database, work: (tx: Tx) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 3
  const baseDelayMs = options.baseDelayMs ?? 20
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work)
    } catch (error) {
      if (attempt >= attempts || !isRetryableConflict(error)) throw error
      // The other transaction usually commits within milliseconds; a short random pause keeps two
      // retrying losers from meeting again in lockstep.
      await Bun.sleep(Math.random() * baseDelayMs * 2 ** (attempt - 1))
    }
  }
}

/**
 * Names who (and why) for the lifecycle triggers: they read `vstep.actor` / `vstep.reason` into the
 * event row of every status change in this transaction (transaction-local settings).
 */
export async function setEventActor(tx: Tx, actor: string, reason?: string): Promise<void> {
  await tx.execute(
    reason === undefined
      ? sql`select set_config('vstep.actor', ${actor}, true)`
      : sql`select set_config('vstep.actor', ${actor}, true), set_config('vstep.reason', ${reason}, true)`,
  )
}
