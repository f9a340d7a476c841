/**
 * Issue 13: a second API instance answers authenticated requests from its own memory (verified
 * claims and session facts), yet a logout-all, a password change, a role change and an account
 * deletion made through the first instance refuse the old access token there within 1 s. The two
 * instances share PostgreSQL and Redis, and nothing else: each has its own Redis handle (so its own
 * pub/sub channel and session cache), its own connection pool and its own event hub.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { decodeJwt } from 'jose'
import { createDatabase, users } from '@vstep/db'
import { createApp } from '../../src/app'
import { authMemory } from '../../src/auth/revocation'
import type { AppDeps } from '../../src/deps'
import { SubmissionEventHub } from '../../src/events/hub'
import { RedisHandle } from '../../src/platform/redis'
import { createTestContext, type TestContext } from '../support/context'
import { json, login, type Tokens } from './support'

let ctx: TestContext
type Instance = { deps: AppDeps; app: ReturnType<typeof createApp>; close: () => Promise<void> }
let second: Instance
/** A third instance whose Redis is unreachable: it must fall back to PostgreSQL for every request. */
let redisless: Instance

async function instance(redisUrl: string): Promise<Instance> {
  const { db, sql, close } = createDatabase(ctx.database.url, { max: 4 })
  const redis = new RedisHandle(redisUrl)
  const events = new SubmissionEventHub(sql)
  await events.start()
  const deps: AppDeps = { ...ctx.deps, db, sql, redis, events }
  return {
    deps,
    app: createApp(deps),
    close: async () => {
      await events.stop()
      redis.close()
      await close()
    },
  }
}

beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_LOGIN: '1000', RATE_LIMIT_REGISTER: '1000', RATE_LIMIT_LOGIN_IP: '1000' })
  second = await instance(ctx.redisServer.url)
  redisless = await instance('redis://127.0.0.1:9')
})
afterAll(async () => {
  await second?.close()
  await redisless?.close()
  await ctx.close()
})

const callOn = (target: Instance, method: string, path: string, token: string) =>
  target.app.handle(new Request(`http://localhost${path}`, { method, headers: { authorization: `Bearer ${token}` } }))

/** Polls until `check` holds; fails after `deadlineMs`. Returns the time it took. */
async function within(deadlineMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await check()) return performance.now() - started
    if (performance.now() - started > deadlineMs) throw new Error(`${what} did not happen within ${deadlineMs} ms`)
    await Bun.sleep(10)
  }
}

/** Signs in on the first instance, then makes the second one hold the session in memory. */
async function warmSession(email: string, password: string): Promise<Tokens> {
  const tokens = await login(ctx, email, password)
  const memory = authMemory(second.deps)
  await within(5_000, 'the second instance subscribing to its invalidation channel', async () => memory.live())
  expect((await callOn(second, 'GET', '/v1/me', tokens.accessToken)).status).toBe(200)
  // The next request is answered from memory: the test below is about invalidation, not about the database.
  expect(memory.cache.has(decodeJwt(tokens.accessToken).sid as string)).toBe(true)
  expect((await callOn(redisless, 'GET', '/v1/me', tokens.accessToken)).status).toBe(200)
  return tokens
}

const refusedOn =
  (target: Instance, token: string, path = '/v1/me') =>
  async () =>
    (await callOn(target, 'GET', path, token)).status === 401

describe('revocation reaches every instance within 1 s', () => {
  test('logout-all on instance 1 refuses both sessions’ old access tokens on instance 2', async () => {
    const account = await ctx.signUp()
    const a = await warmSession(account.email, account.password)
    const b = await warmSession(account.email, account.password)
    expect((await ctx.call('POST', '/v1/auth/logout-all', { token: b.accessToken })).status).toBe(204)
    await within(1_000, 'session a refused on instance 2', refusedOn(second, a.accessToken))
    await within(1_000, 'session b refused on instance 2', refusedOn(second, b.accessToken))
    // Without Redis the instance asks PostgreSQL on every request: refused at once.
    expect(await refusedOn(redisless, a.accessToken)()).toBe(true)
    expect(await refusedOn(redisless, b.accessToken)()).toBe(true)
    // A new login is not caught by the user's cutoff.
    const fresh = await login(ctx, account.email, account.password)
    expect((await callOn(second, 'GET', '/v1/me', fresh.accessToken)).status).toBe(200)
  })

  test('a password change on instance 1 refuses the other sessions’ tokens on instance 2; the changing session stays', async () => {
    const account = await ctx.signUp()
    const other = await warmSession(account.email, account.password)
    const changing = await warmSession(account.email, account.password)
    const res = await ctx.call('POST', '/v1/auth/password', {
      token: changing.accessToken,
      body: { currentPassword: account.password, newPassword: 'a brand new passphrase 42' },
    })
    expect(res.status).toBe(204)
    await within(1_000, 'the other session refused on instance 2', refusedOn(second, other.accessToken))
    expect(await refusedOn(redisless, other.accessToken)()).toBe(true)
    expect((await callOn(second, 'GET', '/v1/me', changing.accessToken)).status).toBe(200)
  })

  test('a role change on instance 1 applies to the old token on instance 2: a demoted instructor is refused staff routes', async () => {
    const admin = await ctx.signUp()
    await ctx.deps.db.update(users).set({ role: 'admin' }).where(eq(users.id, admin.userId))
    const staff = await ctx.signUp()
    await ctx.deps.db.update(users).set({ role: 'instructor' }).where(eq(users.id, staff.userId))
    const old = await warmSession(staff.email, staff.password)
    expect((await callOn(second, 'GET', `/v1/admin/users/${admin.userId}`, old.accessToken)).status).toBe(200)

    const demoted = await ctx.call('PATCH', `/v1/admin/users/${staff.userId}/role`, { token: admin.token, body: { role: 'learner' } })
    expect(demoted.status).toBe(200)
    await within(
      1_000,
      'the staff route refused on instance 2',
      async () => (await callOn(second, 'GET', `/v1/admin/users/${admin.userId}`, old.accessToken)).status === 403,
    )
    expect((await callOn(redisless, 'GET', `/v1/admin/users/${admin.userId}`, old.accessToken)).status).toBe(403)
    expect((await json<{ role: string }>(await callOn(second, 'GET', '/v1/me', old.accessToken))).role).toBe('learner')

    // And back: the promotion reaches instance 2 too, with the same token.
    await ctx.call('PATCH', `/v1/admin/users/${staff.userId}/role`, { token: admin.token, body: { role: 'instructor' } })
    await within(
      1_000,
      'the staff route allowed again on instance 2',
      async () => (await callOn(second, 'GET', `/v1/admin/users/${admin.userId}`, old.accessToken)).status === 200,
    )
  })

  test('deleting the account on instance 1 refuses its tokens on instance 2', async () => {
    const account = await ctx.signUp()
    const a = await warmSession(account.email, account.password)
    const b = await warmSession(account.email, account.password)
    const res = await ctx.call('DELETE', '/v1/me', { token: a.accessToken, body: { password: account.password } })
    expect(res.status).toBe(204)
    await within(1_000, 'session a refused on instance 2', refusedOn(second, a.accessToken))
    await within(1_000, 'session b refused on instance 2', refusedOn(second, b.accessToken))
    expect(await refusedOn(redisless, b.accessToken)()).toBe(true)
  })

  test('a message that never arrives is covered: when the channel drops, the instance forgets what it cached', async () => {
    const account = await ctx.signUp()
    const tokens = await warmSession(account.email, account.password)
    const sid = decodeJwt(tokens.accessToken).sid as string
    const memory = authMemory(second.deps)
    // Kill instance 2's subscriber connection from the server side (as a Redis restart would).
    const clients = String(await ctx.deps.redis.run((c) => c.send('CLIENT', ['LIST', 'TYPE', 'pubsub'])))
    const ids = [...clients.matchAll(/id=(\d+)/g)].map((m) => m[1]!)
    expect(ids.length).toBeGreaterThan(0)
    for (const id of ids) await ctx.deps.redis.run((c) => c.send('CLIENT', ['KILL', 'ID', id]))
    // While it resubscribes, a revocation published meanwhile may be lost; the cache is cleared first.
    await within(5_000, 'instance 2 resubscribed', async () => memory.live() && !memory.cache.has(sid))
    expect((await callOn(second, 'GET', '/v1/me', tokens.accessToken)).status).toBe(200)
  })
})
