import { afterAll, beforeAll, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { sessions, tasks } from '@vstep/db'
import { createTestContext, type TestContext } from '../support/context'
import { json, login, me, refresh } from './support'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_LOGIN: '1000' })
})
afterAll(() => ctx.close())

/** Every row, in every table of the schema, with any column equal to one of the values. */
async function rowsMentioning(values: string[]): Promise<Record<string, number>> {
  const columns = await ctx.deps.sql<{ table_name: string; column_name: string }[]>`
    select c.table_name, c.column_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and t.table_type = 'BASE TABLE'`
  const found: Record<string, number> = {}
  for (const { table_name, column_name } of columns) {
    const [row] = await ctx.deps.sql.unsafe<{ n: number }[]>(
      `select count(*)::int as n from "${table_name}" where "${column_name}"::text = any($1::text[])`,
      [values],
    )
    if (row!.n > 0) found[`${table_name}.${column_name}`] = row!.n
  }
  return found
}

test('DELETE /v1/me leaves no row of that user in any table', async () => {
  const user = await ctx.signUp()
  const second = await login(ctx, user.email, user.password)
  await refresh(ctx, second.refreshToken!) // a rotated chain: parent + child rows
  const [task] = await ctx.deps.db.select().from(tasks).where(eq(tasks.part, 'writing_task_2'))
  const sub = await ctx.call('POST', '/v1/submissions', {
    token: user.token,
    body: { taskId: task!.id, answerText: 'An essay that must vanish with its author.' },
  })
  expect(sub.status).toBe(202)
  const submissionId = (await json<{ id: string }>(sub)).id
  const bystander = await ctx.signUp()
  const sessionIds = (await ctx.deps.db.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, user.userId))).map((s) => s.id)
  const traces = [user.userId, user.email, submissionId, ...sessionIds]
  const before = await rowsMentioning(traces)
  expect(Object.keys(before)).toEqual(
    expect.arrayContaining([
      'users.id',
      'sessions.user_id',
      'refresh_tokens.session_id',
      'submissions.user_id',
      'submission_events.user_id',
    ]),
  )

  expect((await ctx.call('DELETE', '/v1/me', { token: user.token, body: { password: 'wrong password!' } })).status).toBe(403)
  expect((await ctx.call('DELETE', '/v1/me', { token: user.token, body: { password: user.password } })).status).toBe(204)

  expect(await rowsMentioning(traces)).toEqual({})
  // The sweep covered every table (catches a future table without ON DELETE CASCADE too).
  const [tableCount] = await ctx.deps.db.execute<{ n: number }>(
    sql`select count(*)::int as n from information_schema.tables where table_schema = 'public'`,
  )
  expect(Number(tableCount!.n)).toBeGreaterThanOrEqual(9)
  expect((await me(ctx, user.token)).status).toBe(401)
  expect((await me(ctx, second.accessToken)).status).toBe(401)
  expect((await ctx.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(401)
  expect((await me(ctx, bystander.token)).status).toBe(200)
})
