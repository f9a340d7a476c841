import { afterAll, beforeAll, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import postgres from 'postgres'
import { submissions } from '@vstep/db'
import { deleteAccount } from '../../src/auth/service'
import { sqlStateOf } from '../../src/platform/transaction'
import { ProblemError } from '../../src/platform/problem'
import { retrySubmission } from '../../src/submissions/service'
import { sweepOverdue } from '../../src/sweeper/sweeper'
import type { AppDeps } from '../../src/deps'
import { createTestContext, type TestContext } from '../support/context'
import { insertSubmission, taskByPart } from './fixtures'

/**
 * The deadline sweeper and an account delete at the same moment, on real connections: the sweep
 * runs on the app's pool, the delete too, and a third connection (the "gate") holds one lock to
 * stop each of them at the point where the old sweeper deadlocked (it wrote nothing; its commit
 * just ends the transaction). No sleeps: each step waits for
 * PostgreSQL to show the expected waiter in pg_locks.
 */
let ctx: TestContext
let gate: postgres.Sql
let taskId: string
const verify = (password: string, hash: string) => Bun.password.verify(password, hash)

beforeAll(async () => {
  ctx = await createTestContext()
  // Two connections: one holds the gate's transaction, the other watches pg_locks.
  gate = postgres(ctx.deps.config.DATABASE_URL, { max: 2, onnotice: () => {} })
  taskId = (await taskByPart(ctx, 'writing_task_2')).id
})
afterAll(async () => {
  await gate.end()
  await ctx.close()
})

/** Transactions of this database waiting for a lock right now. */
async function waiters(): Promise<number> {
  const [row] = await gate<{ n: number }[]>`
    select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where not l.granted and a.datname = current_database()`
  return row!.n
}

async function untilWaiters(n: number): Promise<void> {
  const deadline = Date.now() + 10_000
  while ((await waiters()) < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} transactions waiting for a lock`)
    await Bun.sleep(10) // polling pg_locks for a condition with a deadline
  }
}

/** Runs `work` while the gate holds a lock taken by `lock` in an open transaction; the gate lets go when `release` resolves. */
async function holdWhile(lock: (tx: postgres.TransactionSql) => Promise<unknown>, work: () => Promise<void>): Promise<void> {
  let release!: () => void
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  let locked!: () => void
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve
  })
  const held = gate.begin(async (tx) => {
    await lock(tx)
    locked()
    await released
  })
  await isLocked
  try {
    await work()
  } finally {
    release()
    await held.catch(() => {})
  }
}

async function learnerWithOverdueSubmission() {
  const u = await ctx.signUp()
  const s = await insertSubmission(ctx, { userId: u.userId, taskId, status: 'processing', deadlineAt: new Date(Date.now() - 60_000) })
  return { ...u, submissionId: s.id }
}

/**
 * The app's deps with a count of the transactions begun: a side that ran its transaction once was
 * not aborted by a deadlock (an aborted one is run again by transactionWithRetry, or its error escapes).
 */
function counting(deps: AppDeps) {
  let begun = 0
  const db = new Proxy(deps.db, {
    get(target, property, receiver) {
      if (property !== 'transaction') return Reflect.get(target, property, receiver)
      return ((...args: Parameters<typeof target.transaction>) => {
        begun++
        return target.transaction(...args)
      }) as typeof target.transaction
    },
  })
  return { deps: { ...deps, db }, transactions: () => begun }
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )

test('a sweep holding an overdue submission and a delete of its owner: no deadlock, both finish', async () => {
  const u = await learnerWithOverdueSubmission()
  const before = await waiters()
  const sweeper = counting(ctx.deps)
  const deleter = counting(ctx.deps)
  let sweep!: Promise<{ ok: boolean; value?: unknown; error?: unknown }>
  let del!: Promise<{ ok: boolean; value?: unknown; error?: unknown }>
  // The gate holds the owner's event lock (migration 0008), so the sweep stops right after it has
  // changed the submission, before its event row's foreign key looks at the user. That is where the
  // old sweeper held the submission and had not yet touched the user.
  await holdWhile(
    (tx) => tx`select pg_advisory_xact_lock(hashtext('vstep:submission_events'), hashtext(${u.userId}::text))`,
    async () => {
      sweep = outcome(sweepOverdue(sweeper.deps))
      await untilWaiters(before + 1)
      // The delete now locks the user row and then needs the submission the sweep holds.
      del = outcome(deleteAccount(deleter.deps, u.userId, u.password, verify))
      await untilWaiters(before + 2)
    },
  )
  const [swept, deleted] = await Promise.all([sweep, del])
  expect(swept.ok ? null : swept.error).toBeNull()
  expect(deleted.ok ? null : deleted.error).toBeNull()
  expect([sweeper.transactions(), deleter.transactions()]).toEqual([1, 1]) // no deadlock at all
  expect(swept.value).toEqual([u.submissionId])
  expect(await ctx.deps.db.select().from(submissions).where(eq(submissions.id, u.submissionId))).toEqual([])
})

test('a delete holding the user row and a sweep of its submissions: no deadlock, the sweep finds nothing left', async () => {
  const u = await learnerWithOverdueSubmission()
  const other = await learnerWithOverdueSubmission()
  const before = await waiters()
  const sweeper = counting(ctx.deps)
  const deleter = counting(ctx.deps)
  let sweep!: Promise<{ ok: boolean; value?: unknown; error?: unknown }>
  let del!: Promise<{ ok: boolean; value?: unknown; error?: unknown }>
  // The gate holds one of the user's sessions, so the delete stops after locking the user row,
  // in its cascade, before it reaches the submissions.
  await holdWhile(
    (tx) => tx`select 1 from sessions where user_id = ${u.userId} for update`,
    async () => {
      del = outcome(deleteAccount(deleter.deps, u.userId, u.password, verify))
      await untilWaiters(before + 1)
      sweep = outcome(sweepOverdue(sweeper.deps))
      await untilWaiters(before + 2)
    },
  )
  const [swept, deleted] = await Promise.all([sweep, del])
  expect(deleted.ok ? null : deleted.error).toBeNull()
  expect(swept.ok ? null : swept.error).toBeNull()
  // The deleted learner's submission went with the account; the other learner's was swept.
  expect([sweeper.transactions(), deleter.transactions()]).toEqual([1, 1]) // no deadlock at all
  expect(swept.value).toEqual([other.submissionId])
  const [row] = await ctx.deps.db.select().from(submissions).where(eq(submissions.id, other.submissionId))
  expect(row).toMatchObject({ status: 'failed', lastErrorCode: 'timeout' })
})

test('a delete holding the user row and a retry of a failed submission: the retry waits and finds it gone (404), no deadlock', async () => {
  const u = await ctx.signUp()
  const failed = await insertSubmission(ctx, { userId: u.userId, taskId, status: 'failed' })
  const before = await waiters()
  const retrier = counting(ctx.deps)
  const deleter = counting(ctx.deps)
  let retry!: Promise<{ ok: boolean; value?: unknown; error?: unknown }>
  let del!: Promise<{ ok: boolean; value?: unknown; error?: unknown }>
  await holdWhile(
    (tx) => tx`select 1 from sessions where user_id = ${u.userId} for update`,
    async () => {
      del = outcome(deleteAccount(deleter.deps, u.userId, u.password, verify))
      await untilWaiters(before + 1)
      // The retry's ownership check reads the row before the delete removes it; its transaction then
      // waits for the owner's row, as the lock order says, instead of locking the submission first.
      retry = outcome(
        retrySubmission(retrier.deps, { id: u.userId, role: 'learner', sessionId: crypto.randomUUID(), email: u.email }, failed.id),
      )
      await untilWaiters(before + 2)
    },
  )
  const [retried, deleted] = await Promise.all([retry, del])
  expect(deleted.ok ? null : deleted.error).toBeNull()
  expect(retried.ok).toBe(false)
  expect(sqlStateOf(retried.error)).toBeUndefined()
  expect(retried.error).toBeInstanceOf(ProblemError)
  expect((retried.error as ProblemError).status).toBe(404)
  expect([retrier.transactions(), deleter.transactions()]).toEqual([1, 1]) // no deadlock at all
})
