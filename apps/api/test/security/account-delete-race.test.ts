import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { Elysia } from 'elysia'
import { submissions, users } from '@vstep/db'
import { problemHandler } from '../../src/platform/problem'
import { isRetryableConflict, transactionWithRetry } from '../../src/platform/transaction'
import { insertSubmission, taskByPart } from '../lifecycle/fixtures'
import { createTestContext, type TestContext } from '../support/context'

/**
 * Issue 11, finding 4: deleting an account while the worker wrote its grade deadlocked (40P01) and
 * answered 500 with the account still there. Here a second connection holds the worker's locks
 * (the statements of workers/grader-py `jobs._write`, run for real in the worker's own test,
 * tests/test_account_delete_race.py) while DELETE /v1/me runs against the real API.
 */
let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_LOGIN: '1000' })
})
afterAll(() => ctx.close())

/** Polls until some other backend of this database waits for a lock (a deadline, no fixed sleep). */
async function waitUntilSomeoneWaits(exceptPid: number): Promise<void> {
  const until = Date.now() + 20_000
  for (;;) {
    const [row] = await ctx.deps.sql<{ waiting: boolean }[]>`
      select exists (select 1 from pg_locks l join pg_stat_activity a using (pid)
                     where not l.granted and a.datname = current_database() and a.pid <> ${exceptPid}) as waiting`
    if (row!.waiting) return
    if (Date.now() > until) throw new Error('the account delete never waited for the grade write')
    await Bun.sleep(20) // the poll interval of a condition with a deadline
  }
}

async function learnerWithProcessingSubmission() {
  const learner = await ctx.signUp()
  const task = await taskByPart(ctx, 'writing_task_2')
  const row = await insertSubmission(ctx, { userId: learner.userId, taskId: task.id, status: 'processing' })
  return { learner, submissionId: row.id }
}

const deleteMe = (learner: { token: string; password: string }) =>
  ctx.call('DELETE', '/v1/me', { token: learner.token, body: { password: learner.password } })

describe('DELETE /v1/me while the worker writes a grade', () => {
  test("in the worker's lock order (owner, then submission): the delete waits, then succeeds; the grade write commits", async () => {
    const { learner, submissionId } = await learnerWithProcessingSubmission()
    const worker = await ctx.deps.sql.reserve()
    try {
      const [{ pid }] = (await worker`select pg_backend_pid() as pid`) as unknown as [{ pid: number }]
      await worker`begin`
      await worker`select set_config('vstep.actor', 'worker', true)`
      await worker`select 1 from users where id = (select user_id from submissions where id = ${submissionId}) for key share`
      await worker`select status from submissions where id = ${submissionId} for update`
      await worker`insert into grades (submission_id, source, overall, provider, model, rubric_version, confidence)
                   values (${submissionId}, 'ai', 6, 'offline', 'test', 'test-1', 0.9)`

      const deleting = deleteMe(learner)
      await waitUntilSomeoneWaits(pid)
      // The status change inserts an event, whose foreign key needs the user row the delete wants.
      await worker`update submissions set status = 'completed' where id = ${submissionId}`
      await worker`commit`

      const res = await deleting
      expect(res.status).toBe(204)
    } finally {
      worker.release()
    }
    expect(await ctx.deps.db.select().from(users).where(eq(users.id, learner.userId))).toEqual([])
    expect(await ctx.deps.db.select().from(submissions).where(eq(submissions.id, submissionId))).toEqual([])
  })

  test('against a writer in the old order (submission, then user) the deadlock is retried: 204, never 500', async () => {
    const { learner, submissionId } = await learnerWithProcessingSubmission()
    const worker = await ctx.deps.sql.reserve()
    try {
      const [{ pid }] = (await worker`select pg_backend_pid() as pid`) as unknown as [{ pid: number }]
      await worker`begin`
      await worker`select status from submissions where id = ${submissionId} for update`
      const deleting = deleteMe(learner)
      await waitUntilSomeoneWaits(pid)
      // Closes the lock cycle: PostgreSQL aborts one side with 40P01 after deadlock_timeout.
      try {
        await worker`update submissions set status = 'completed' where id = ${submissionId}`
        await worker`commit`
      } catch (error) {
        expect(isRetryableConflict(error)).toBe(true)
        await worker`rollback`
      }
      const res = await deleting
      // Before the fix the delete (the later waiter, so PostgreSQL's victim) answered 500.
      expect(res.status).toBe(204)
    } finally {
      worker.release()
    }
    expect(await ctx.deps.db.select().from(users).where(eq(users.id, learner.userId))).toEqual([])
  })
})

describe('transactionWithRetry and the 503 fallback', () => {
  const deadlock = () => Object.assign(new Error('deadlock detected'), { code: '40P01' })

  test('reruns the transaction after a deadlock or serialization failure, a bounded number of times', async () => {
    let runs = 0
    expect(
      await transactionWithRetry(ctx.deps.db, async () => {
        runs++
        if (runs < 3) throw runs === 1 ? deadlock() : Object.assign(new Error('could not serialize'), { code: '40001' })
        return 'done'
      }),
    ).toBe('done')
    expect(runs).toBe(3)

    runs = 0
    const always = transactionWithRetry(ctx.deps.db, async () => {
      runs++
      throw deadlock()
    })
    await expect(always).rejects.toThrow('deadlock detected')
    expect(runs).toBe(3)

    runs = 0
    const other = transactionWithRetry(ctx.deps.db, async () => {
      runs++
      throw Object.assign(new Error('unique violation'), { code: '23505' })
    })
    await other.catch(() => {})
    expect(runs).toBe(1)
  })

  test('a deadlock that escapes every retry is a 503 problem with Retry-After, not a 500', async () => {
    const app = new Elysia()
      .use(problemHandler)
      .get('/deadlock', () => {
        throw Object.assign(new Error('wrapped'), { cause: deadlock() })
      })
      .get('/serialization', () => {
        throw Object.assign(new Error('could not serialize access'), { code: '40001' })
      })
    for (const path of ['/deadlock', '/serialization']) {
      const res = await app.handle(new Request(`http://localhost${path}`))
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(res.headers.get('content-type')).toBe('application/problem+json')
    }
  })
})
