import { sql } from 'drizzle-orm'
import type { Tx } from '../platform/transaction'

/**
 * The lock order every writer of a submission shares, in the API and in the worker
 * (workers/grader-py, `jobs._lock_owner`): the owner's `users` row first, then the submission.
 *
 * Changing a submission's status inserts a `submission_events` row whose foreign key takes
 * `FOR KEY SHARE` on the owner; deleting the account locks the user row, then (by cascade) the
 * submissions. A writer that locked the submission first and the user second deadlocked with an
 * account delete. `FOR KEY SHARE` is the lock the foreign key takes anyway, so writers of different
 * submissions of one user do not wait for each other; only a delete of the user does. The deadline
 * sweeper, which changes submissions of many users, locks all their owners first, in id order.
 *
 * Last comes the user's event lock (migration 0008): inserting the `submission_events` row takes a
 * transaction-scoped advisory lock on the owner before drawing the event id, so that one user's event
 * ids are in commit order. From the status change to the commit, writers of one user's submissions
 * do wait for each other; take no other lock after a status change that such a writer may hold.
 */
export async function lockSubmissionOwner(tx: Tx, submissionId: string): Promise<void> {
  await tx.execute(sql`select 1 from users where id = (select user_id from submissions where id = ${submissionId}) for key share`)
}
