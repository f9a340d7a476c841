import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { tasks, users } from '@vstep/db'
import { bootstrapAdmin, createOrPromoteAdmin } from '../../src/admin/service'
import { createApp } from '../../src/app'
import { createTestContext, type TestContext } from '../support/context'
import { json, login, register } from './support'
import { waitFor } from '../support/processes'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_LOGIN: '1000', RATE_LIMIT_REGISTER: '1000' })
})
afterAll(() => ctx.close())

const promote = (id: string, role: 'admin' | 'instructor') => ctx.deps.db.update(users).set({ role }).where(eq(users.id, id))

describe('roles', () => {
  test('a learner calling instructor and admin routes gets 403', async () => {
    const learner = await ctx.signUp()
    const other = await ctx.signUp()
    for (const [method, path, body] of [
      ['GET', '/v1/reviews', undefined],
      ['GET', `/v1/admin/users/${other.userId}`, undefined],
      ['PATCH', `/v1/admin/users/${other.userId}/role`, { role: 'admin' }],
      ['PATCH', `/v1/admin/users/${learner.userId}/role`, { role: 'admin' }],
    ] as const) {
      const res = await ctx.call(method, path, { token: learner.token, body })
      expect(res.status).toBe(403)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
    }
    const [row] = await ctx.deps.db.select().from(users).where(eq(users.id, learner.userId))
    expect(row!.role).toBe('learner')
  })

  test('an instructor may read staff routes but not change roles; an admin changes roles, effective on the next request', async () => {
    const instructor = await ctx.signUp()
    await promote(instructor.userId, 'instructor')
    const learner = await ctx.signUp()
    expect((await ctx.call('GET', `/v1/admin/users/${learner.userId}`, { token: instructor.token })).status).toBe(200)
    expect((await ctx.call('GET', '/v1/reviews', { token: instructor.token })).status).toBe(200)
    expect(
      (await ctx.call('PATCH', `/v1/admin/users/${learner.userId}/role`, { token: instructor.token, body: { role: 'instructor' } })).status,
    ).toBe(403)

    const admin = await ctx.signUp()
    await promote(admin.userId, 'admin')
    const changed = await ctx.call('PATCH', `/v1/admin/users/${learner.userId}/role`, { token: admin.token, body: { role: 'instructor' } })
    expect(changed.status).toBe(200)
    expect((await json<{ role: string }>(changed)).role).toBe('instructor')
    expect((await ctx.call('GET', '/v1/reviews', { token: learner.token })).status).toBe(200) // same token, new role
    expect(
      (await ctx.call('PATCH', `/v1/admin/users/${crypto.randomUUID()}/role`, { token: admin.token, body: { role: 'admin' } })).status,
    ).toBe(404)
    expect((await ctx.call('PATCH', `/v1/admin/users/${learner.userId}/role`, { token: admin.token, body: { role: 'root' } })).status).toBe(
      422,
    )
  })

  test('the last admin cannot be demoted', async () => {
    const db = ctx.deps.db
    await db.update(users).set({ role: 'learner' }).where(eq(users.role, 'admin'))
    const admin = await ctx.signUp()
    await promote(admin.userId, 'admin')
    expect(
      (await ctx.call('PATCH', `/v1/admin/users/${admin.userId}/role`, { token: admin.token, body: { role: 'learner' } })).status,
    ).toBe(409)
  })

  test('one user reading another user’s data gets 404', async () => {
    const owner = await ctx.signUp()
    const stranger = await ctx.signUp()
    const [task] = await ctx.deps.db.select().from(tasks).where(eq(tasks.part, 'writing_task_2'))
    const created = await ctx.call('POST', '/v1/submissions', {
      token: owner.token,
      body: { taskId: task!.id, answerText: 'My private essay about cities.' },
    })
    expect(created.status).toBe(202)
    const { id } = await json<{ id: string }>(created)
    expect((await ctx.call('GET', `/v1/submissions/${id}`, { token: owner.token })).status).toBe(200)
    expect((await ctx.call('GET', `/v1/submissions/${id}`, { token: stranger.token })).status).toBe(404)
    const sessions = await json<{ items: { id: string }[] }>(await ctx.call('GET', '/v1/auth/sessions', { token: owner.token }))
    expect((await ctx.call('DELETE', `/v1/auth/sessions/${sessions.items[0]!.id}`, { token: stranger.token })).status).toBe(404)
  })
})

describe('first admin', () => {
  test('BOOTSTRAP_ADMIN_EMAIL promotes an existing account only while no admin exists', async () => {
    await ctx.deps.db.update(users).set({ role: 'learner' }).where(eq(users.role, 'admin'))
    expect(await bootstrapAdmin(ctx.deps.db, 'nobody-yet@example.test')).toBe('no-such-user')
    const first = await register(ctx, 'Boss@Example.test')
    expect(await bootstrapAdmin(ctx.deps.db, ' boss@example.TEST ')).toBe('promoted')
    const [row] = await ctx.deps.db.select().from(users).where(eq(users.id, first.id))
    expect(row!.role).toBe('admin')
    const second = await register(ctx)
    expect(await bootstrapAdmin(ctx.deps.db, second.email)).toBe('admin-exists')
    const [still] = await ctx.deps.db.select().from(users).where(eq(users.id, second.id))
    expect(still!.role).toBe('learner')
  })

  test('BOOTSTRAP_ADMIN_EMAIL is applied when the server starts listening', async () => {
    await ctx.deps.db.update(users).set({ role: 'learner' }).where(eq(users.role, 'admin'))
    const boss = await register(ctx)
    const app = createApp({ ...ctx.deps, config: { ...ctx.deps.config, BOOTSTRAP_ADMIN_EMAIL: boss.email } }).listen({
      port: 0,
      hostname: '127.0.0.1',
    })
    try {
      // Start-up work is asynchronous: poll the outcome with a deadline.
      const role = await waitFor(
        'the bootstrap admin',
        async () => {
          const [row] = await ctx.deps.db.select({ role: users.role }).from(users).where(eq(users.id, boss.id))
          return row?.role === 'admin' ? row.role : undefined
        },
        5_000,
      )
      expect(role).toBe('admin')
    } finally {
      await app.stop(true)
    }
  })

  test('the CLI creates an admin (password policy applies) or promotes an existing account', async () => {
    await expect(
      createOrPromoteAdmin(ctx.deps.db, ctx.deps.config, { email: 'cli@example.test', password: 'password123' }),
    ).rejects.toMatchObject({ status: 422, detail: expect.stringContaining('password') }) // the policy, not any error
    const made = await createOrPromoteAdmin(ctx.deps.db, ctx.deps.config, {
      email: 'CLI@example.test',
      password: 'a long admin passphrase',
    })
    expect(made).toMatchObject({ created: true, user: { role: 'admin', email: 'cli@example.test' } })
    await login(ctx, 'cli@example.test', 'a long admin passphrase')
    const learner = await register(ctx)
    const promoted = await createOrPromoteAdmin(ctx.deps.db, ctx.deps.config, { email: learner.email })
    expect(promoted).toMatchObject({ created: false, user: { role: 'admin' } })
  })

  test('mass assignment: a role (or id) in the register body is not taken', async () => {
    const email = `mass-${crypto.randomUUID()}@example.test`
    const body = { email, password: 'a long enough password', displayName: 'M', role: 'admin', id: crypto.randomUUID() }
    const res = await ctx.call('POST', '/v1/auth/register', { body })
    expect(res.status).toBe(201)
    const created = await json<{ id: string; role: string }>(res)
    expect(created.role).toBe('learner')
    expect(created.id).not.toBe(body.id)
    const [row] = await ctx.deps.db.select({ role: users.role }).from(users).where(eq(users.email, email))
    expect(row?.role).toBe('learner')
  })

  test('there is no open endpoint that grants a role', async () => {
    const spec = await json<{ paths: Record<string, Record<string, unknown>> }>(await ctx.call('GET', '/openapi/json'))
    const roleRoutes = Object.keys(spec.paths).filter((p) => p.includes('role'))
    expect(roleRoutes).toEqual(['/v1/admin/users/{id}/role'])
    const res = await ctx.call('PATCH', `/v1/admin/users/${crypto.randomUUID()}/role`, { body: { role: 'admin' } })
    expect(res.status).toBe(401)
  })
})
