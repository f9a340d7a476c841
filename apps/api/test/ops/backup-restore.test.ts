/**
 * Issue 14: the backup and restore procedure of docs/operations.md, run for real. A database with
 * data (an account, a graded submission with its events) is dumped with `pg_dump --format=custom`,
 * restored with `pg_restore` into a fresh, empty database, and an API process started against the
 * restored one (it migrates at start-up: nothing to do) serves the data back: the account logs in with
 * its password and reads its submission, grade and history.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { tasks } from '@vstep/db'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import type { Service } from '../support/processes'
import { startApiProcess } from '../support/stack'
import { createTestContext, type TestContext } from '../support/context'

let ctx: TestContext
let restored: TestDatabase
let dir: string
const services: Service[] = []

beforeAll(async () => {
  ctx = await createTestContext()
  restored = await createTestDatabase({ migrate: false })
  dir = mkdtempSync(join(tmpdir(), 'vstep-backup-'))
})
afterAll(async () => {
  for (const service of services) await service.stop()
  await restored?.drop()
  await ctx?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const run = (cmd: string[]) => {
  const result = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' })
  if (result.exitCode !== 0) throw new Error(`${cmd[0]} failed (${result.exitCode}):\n${result.stderr.toString()}`)
}

test('pg_dump → pg_restore into a fresh database → the API serves the restored data', async () => {
  // Data: an account and a submission that was graded (the worker's write, done here in SQL).
  const learner = await ctx.signUp()
  const task = (await ctx.deps.db.select().from(tasks)).find((t) => t.skill === 'writing')!
  const created = await ctx.call('POST', '/v1/submissions', {
    token: learner.token,
    body: { taskId: task.id, answerText: 'A restored answer.' },
  })
  expect(created.status).toBe(202)
  const { id } = (await created.json()) as { id: string }
  await ctx.deps.db.execute(sql`update submissions set status = 'processing' where id = ${id}`)
  await ctx.deps.db.execute(
    sql`insert into grades (submission_id, source, overall, provider, model, rubric_version, confidence) values (${id}, 'ai', 6.5, 'offline', 'test', 'v1', 0.9)`,
  )
  await ctx.deps.db.execute(sql`update submissions set status = 'completed' where id = ${id}`)

  // The procedure (docs/operations.md#backup-and-restore).
  const dump = join(dir, 'vstep.dump')
  run(['pg_dump', '--format=custom', '--no-owner', '--file', dump, ctx.database.url])
  expect(statSync(dump).size).toBeGreaterThan(1000)
  run(['pg_restore', '--no-owner', '--exit-on-error', '--dbname', restored.url, dump])

  // An API process on the restored database (its own Redis is irrelevant to the data: the test's).
  const keyDir = join(dir, 'keys')
  const api = await startApiProcess(services, {
    keyDir,
    env: { DATABASE_URL: restored.url, REDIS_URL: ctx.redisServer.url, RECONCILE_INTERVAL_MS: '0' },
  })
  const login = await fetch(`${api}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: learner.email, password: learner.password }),
  })
  expect(login.status).toBe(200)
  const { accessToken } = (await login.json()) as { accessToken: string }
  const read = await fetch(`${api}/v1/submissions/${id}`, { headers: { authorization: `Bearer ${accessToken}` } })
  expect(read.status).toBe(200)
  const submission = (await read.json()) as { status: string; answerText: string; grades: { overall: number }[] }
  expect(submission).toMatchObject({ status: 'completed', answerText: 'A restored answer.' })
  expect(submission.grades.map((g) => g.overall)).toEqual([6.5])
  // The trigger-written history came along too.
  const history = await fetch(`${api}/v1/submissions/${id}/events`, { headers: { authorization: `Bearer ${accessToken}` } })
  expect(history.status).toBe(200)
  expect(await history.text()).toContain('"to":"completed"')
}, 90_000)
