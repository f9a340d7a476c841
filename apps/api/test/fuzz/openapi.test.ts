/**
 * Property-based fuzzing from the API's own OpenAPI document: schemathesis generates thousands of
 * valid and invalid requests for every operation (signed in as an admin, so the guarded routes are
 * reached too) and fails on any 5xx. "Bad input is a 4xx, never a 500" is checked, not hoped for.
 * The seed is fixed so CI is reproducible; run `FUZZ_SEED=random bun test test/fuzz` to explore.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { join } from 'node:path'
import { users } from '@vstep/db'
import { REPO_ROOT } from '../support/processes'
import { createTestContext, type TestContext } from '../support/context'

let ctx: TestContext
let baseUrl: string
let token: string

beforeAll(async () => {
  // Limits high enough that the fuzzer explores handlers rather than the rate limiter.
  ctx = await createTestContext({
    RATE_LIMIT_LOGIN: '100000',
    RATE_LIMIT_LOGIN_ACCOUNT: '100000',
    RATE_LIMIT_LOGIN_IP_FAILURES: '100000',
    RATE_LIMIT_LOGIN_IP: '100000',
    RATE_LIMIT_REGISTER: '100000',
    RATE_LIMIT_REFRESH: '100000',
    RATE_LIMIT_SUBMISSIONS: '100000',
    RATE_LIMIT_READ_ANONYMOUS: '100000',
    RATE_LIMIT_READ_STAFF: '100000',
  })
  ctx.app.listen({ port: 0, hostname: '127.0.0.1' })
  baseUrl = `http://127.0.0.1:${ctx.app.server!.port}`
  const admin = await ctx.signUp()
  await ctx.deps.db.update(users).set({ role: 'admin' }).where(eq(users.id, admin.userId))
  token = admin.token
})
afterAll(async () => {
  await ctx.app.stop(true)
  await ctx.close()
})

/** Operations that end the caller's session or account: fuzzed separately, so they cannot lock the
 * fuzzer out of every other guarded route halfway through. */
const SESSION_ENDING = '^/v1/(auth/(logout|logout-all|password|sessions/\\{id\\})|me|admin/users/\\{id\\}/role)$'

async function fuzz(filter: string[], options: { staysSignedIn: boolean }): Promise<void> {
  const seed = process.env.FUZZ_SEED === 'random' ? [] : ['--seed', process.env.FUZZ_SEED ?? '20261129']
  const run = Bun.spawn(
    [
      'uv',
      'run',
      '--frozen',
      'st',
      'run',
      `${baseUrl}/openapi/json`,
      '--header',
      `Authorization: Bearer ${token}`,
      '--checks',
      'not_a_server_error',
      '--max-examples',
      process.env.FUZZ_MAX_EXAMPLES ?? '25',
      '--workers',
      '1',
      ...filter,
      ...seed,
    ],
    {
      cwd: join(REPO_ROOT, 'tools/api-fuzz'),
      env: { ...process.env, UV_PYTHON_DOWNLOADS: 'never', NO_COLOR: '1' },
      stdout: 'pipe',
      stderr: 'pipe',
    },
  )
  const [code, out, err] = await Promise.all([run.exited, new Response(run.stdout).text(), new Response(run.stderr).text()])
  if (code !== 0) console.error(out, err)
  expect(out).toMatch(/\d+ generated, \d+ passed/)
  // Proof the guarded routes were really reached, not just answered 401 throughout.
  if (options.staysSignedIn) expect(out).not.toContain('Authentication failed')
  expect(code).toBe(0)
}

test('no request generated from the OpenAPI document gets a 5xx', async () => {
  // SSE streams never end on their own; they are covered by test/events.
  await fuzz(['--exclude-path-regex', `events$|${SESSION_ENDING}`], { staysSignedIn: true })
}, 180_000)

test('nor do the routes that end sessions or accounts', async () => {
  // The first logout ends the fuzzer's session, so 401s are expected here; 5xx still are not.
  await fuzz(['--include-path-regex', SESSION_ENDING], { staysSignedIn: false })
}, 180_000)
