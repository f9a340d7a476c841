import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { refreshTokens, sessions } from '@vstep/db'
import { createTestContext, type TestContext } from '../support/context'
import { json, login, me, refresh, register, type Tokens } from './support'

let ctx: TestContext
beforeAll(async () => {
  // Limits high enough that this file exercises rotation, not rate limiting (tested elsewhere).
  ctx = await createTestContext({
    RATE_LIMIT_LOGIN: '1000',
    RATE_LIMIT_REFRESH: '1000',
    RATE_LIMIT_REGISTER: '1000',
    MAX_SESSIONS_PER_USER: '3',
  })
})
afterAll(() => ctx.close())

const newUser = async () => {
  const account = await register(ctx)
  return { ...account, tokens: await login(ctx, account.email, account.password) }
}

describe('refresh-token rotation', () => {
  test('each refresh returns a new pair; the old refresh token then fails; reusing it revokes the family and the access token is refused next request', async () => {
    const { tokens: first } = await newUser()
    const r1 = await refresh(ctx, first.refreshToken!)
    expect(r1.status).toBe(200)
    const second = await json<Tokens>(r1)
    expect(second.refreshToken).toBeString()
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expect(second.accessToken).not.toBe(first.accessToken)
    expect((await me(ctx, second.accessToken)).status).toBe(200)

    const r2 = await refresh(ctx, second.refreshToken!)
    expect(r2.status).toBe(200)
    const third = await json<Tokens>(r2)
    expect((await me(ctx, third.accessToken)).status).toBe(200)

    // `first` was rotated long ago (its child was rotated too): not a grace case, this is reuse.
    const reuse = await refresh(ctx, first.refreshToken!)
    expect(reuse.status).toBe(401)
    expect(reuse.headers.get('content-type')).toBe('application/problem+json')

    // The whole family is dead: the newest refresh token and the session's access tokens.
    expect((await me(ctx, third.accessToken)).status).toBe(401)
    expect((await me(ctx, second.accessToken)).status).toBe(401)
    expect((await refresh(ctx, third.refreshToken!)).status).toBe(401)
    const [session] = await ctx.deps.db.select().from(sessions).where(eq(sessions.userId, first.user.id))
    expect(session!.revokedReason).toBe('refresh_token_reuse')
    const live = await ctx.deps.db
      .select()
      .from(refreshTokens)
      .where(sql`${refreshTokens.sessionId} = ${session!.id} and ${refreshTokens.revokedAt} is null`)
    expect(live).toHaveLength(0)
  })

  test('the revoked access token is refused from the database alone, with the Redis revoke store empty', async () => {
    const { tokens } = await newUser()
    const next = await json<Tokens>(await refresh(ctx, tokens.refreshToken!))
    await refresh(ctx, (await json<Tokens>(await refresh(ctx, next.refreshToken!))).refreshToken!) // rotate twice
    expect((await refresh(ctx, tokens.refreshToken!)).status).toBe(401) // reuse
    await ctx.deps.redis.run((c) => c.send('FLUSHALL', []))
    expect((await me(ctx, next.accessToken)).status).toBe(401)
  })

  test('an immediate-parent replay after rotation (inside the grace window) gets the same child, not a second one', async () => {
    const { tokens } = await newUser()
    const a = await json<Tokens>(await refresh(ctx, tokens.refreshToken!))
    const again = await refresh(ctx, tokens.refreshToken!)
    expect(again.status).toBe(200)
    const b = await json<Tokens>(again)
    expect(b.refreshToken).toBe(a.refreshToken!)
    expect((await me(ctx, b.accessToken)).status).toBe(200)
    const family = await ctx.deps.db
      .select()
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .where(eq(sessions.userId, tokens.user.id))
    expect(family).toHaveLength(2)
  })

  test('outside the grace window the immediate parent counts as reuse', async () => {
    const { tokens } = await newUser()
    const child = await json<Tokens>(await refresh(ctx, tokens.refreshToken!))
    // Move the rotation instant back past the window instead of waiting for it.
    await ctx.deps.db.execute(sql`update refresh_tokens set used_at = now() - interval '11 seconds' where used_at is not null
      and session_id in (select id from sessions where user_id = ${tokens.user.id})`)
    expect((await refresh(ctx, tokens.refreshToken!)).status).toBe(401)
    expect((await me(ctx, child.accessToken)).status).toBe(401)
    expect((await refresh(ctx, child.refreshToken!)).status).toBe(401)
  })

  test('two refreshes with the same token fired concurrently: the user stays logged in with one live child', async () => {
    const { tokens } = await newUser()
    const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(ctx, tokens.refreshToken!)))
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200))
    const bodies = await Promise.all(answers.map((r) => json<Tokens>(r)))
    const children = new Set(bodies.map((b) => b.refreshToken))
    expect(children.size).toBe(1)
    for (const b of bodies) expect((await me(ctx, b.accessToken)).status).toBe(200)
    // And the shared child keeps working.
    const next = await refresh(ctx, [...children][0]!)
    expect(next.status).toBe(200)
    expect((await me(ctx, (await json<Tokens>(next)).accessToken)).status).toBe(200)
  })

  test('a pair of concurrent refreshes (the usual double-tab case) both succeed', async () => {
    const { tokens } = await newUser()
    const [x, y] = await Promise.all([refresh(ctx, tokens.refreshToken!), refresh(ctx, tokens.refreshToken!)])
    expect([x!.status, y!.status]).toEqual([200, 200])
    const [bx, by] = [await json<Tokens>(x!), await json<Tokens>(y!)]
    expect(bx.refreshToken).toBe(by.refreshToken!)
  })

  test('unknown, empty and missing refresh tokens are 401 problems', async () => {
    expect((await refresh(ctx, 'x'.repeat(43))).status).toBe(401)
    expect((await ctx.call('POST', '/v1/auth/refresh', { body: {} })).status).toBe(401)
  })

  test('idle expiry: a session unused for REFRESH_IDLE_DAYS cannot refresh; absolute expiry likewise', async () => {
    const idle = await newUser()
    await ctx.deps.db.execute(
      sql`update sessions set last_used_at = now() - interval '7 days 1 second' where user_id = ${idle.tokens.user.id}`,
    )
    expect((await refresh(ctx, idle.tokens.refreshToken!)).status).toBe(401)
    const old = await newUser()
    await ctx.deps.db.execute(sql`update sessions set expires_at = now() - interval '1 second' where user_id = ${old.tokens.user.id}`)
    expect((await refresh(ctx, old.tokens.refreshToken!)).status).toBe(401)
    expect((await me(ctx, old.tokens.accessToken)).status).toBe(401)
  })
})

describe('sessions', () => {
  test('at most MAX_SESSIONS_PER_USER live sessions; the oldest is dropped and its tokens die', async () => {
    const account = await register(ctx)
    const logins: Tokens[] = []
    for (let i = 0; i < 4; i++) logins.push(await login(ctx, account.email, account.password))
    expect((await me(ctx, logins[0]!.accessToken)).status).toBe(401)
    expect((await refresh(ctx, logins[0]!.refreshToken!)).status).toBe(401)
    for (const t of logins.slice(1)) expect((await me(ctx, t.accessToken)).status).toBe(200)
    const list = await json<{ items: { id: string; current: boolean }[] }>(
      await ctx.call('GET', '/v1/auth/sessions', { token: logins[3]!.accessToken }),
    )
    expect(list.items).toHaveLength(3)
    expect(list.items.filter((s) => s.current)).toHaveLength(1)
  })

  test('list and revoke own sessions; another user’s session is 404', async () => {
    const a = await newUser()
    const second = await login(ctx, a.email, a.password)
    const list = await json<{ items: { id: string; current: boolean }[] }>(
      await ctx.call('GET', '/v1/auth/sessions', { token: a.tokens.accessToken }),
    )
    const other = list.items.find((s) => !s.current)!
    const b = await newUser()
    expect((await ctx.call('DELETE', `/v1/auth/sessions/${other.id}`, { token: b.tokens.accessToken })).status).toBe(404)
    expect((await me(ctx, second.accessToken)).status).toBe(200)
    expect((await ctx.call('DELETE', `/v1/auth/sessions/${other.id}`, { token: a.tokens.accessToken })).status).toBe(204)
    expect((await me(ctx, second.accessToken)).status).toBe(401)
    expect((await me(ctx, a.tokens.accessToken)).status).toBe(200)
  })

  test('logout ends the session (by refresh token or by access token); logout-all ends them all', async () => {
    const a = await newUser()
    const s2 = await login(ctx, a.email, a.password)
    const s3 = await login(ctx, a.email, a.password)
    expect((await ctx.call('POST', '/v1/auth/logout', { body: { refreshToken: a.tokens.refreshToken } })).status).toBe(204)
    expect((await me(ctx, a.tokens.accessToken)).status).toBe(401)
    expect((await ctx.call('POST', '/v1/auth/logout', { token: s2.accessToken, body: {} })).status).toBe(204)
    expect((await me(ctx, s2.accessToken)).status).toBe(401)
    const s4 = await login(ctx, a.email, a.password)
    expect((await ctx.call('POST', '/v1/auth/logout-all', { token: s4.accessToken })).status).toBe(204)
    for (const t of [s3, s4]) {
      expect((await me(ctx, t.accessToken)).status).toBe(401)
      expect((await refresh(ctx, t.refreshToken!)).status).toBe(401)
    }
  })

  test('password change keeps this session, ends the others, and the new password works', async () => {
    const a = await newUser()
    const other = await login(ctx, a.email, a.password)
    const wrong = await ctx.call('POST', '/v1/auth/password', {
      token: a.tokens.accessToken,
      body: { currentPassword: 'nope nope nope', newPassword: 'a brand new passphrase' },
    })
    expect(wrong.status).toBe(403)
    const common = await ctx.call('POST', '/v1/auth/password', {
      token: a.tokens.accessToken,
      body: { currentPassword: a.password, newPassword: 'password123' },
    })
    expect(common.status).toBe(422)
    const ok = await ctx.call('POST', '/v1/auth/password', {
      token: a.tokens.accessToken,
      body: { currentPassword: a.password, newPassword: 'a brand new passphrase' },
    })
    expect(ok.status).toBe(204)
    expect((await me(ctx, a.tokens.accessToken)).status).toBe(200)
    expect((await me(ctx, other.accessToken)).status).toBe(401)
    expect((await refresh(ctx, other.refreshToken!)).status).toBe(401)
    expect((await ctx.call('POST', '/v1/auth/login', { body: { email: a.email, password: a.password } })).status).toBe(401)
    await login(ctx, a.email, 'a brand new passphrase')
  })
})

describe('web clients: refresh token in an httpOnly cookie', () => {
  const cookieOf = (res: Response) => res.headers.get('set-cookie') ?? ''
  const tokenIn = (cookie: string) => cookie.match(/vstep_refresh=([^;]*)/)?.[1] ?? ''

  test('login sets HttpOnly SameSite=Strict Path=/v1/auth (no Secure: COOKIE_SECURE is off outside production) and omits the token from JSON', async () => {
    const a = await register(ctx)
    const res = await ctx.call('POST', '/v1/auth/login', { body: { email: a.email, password: a.password, client: 'web' } })
    expect(res.status).toBe(200)
    const cookie = cookieOf(res)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).toContain('Path=/v1/auth')
    expect(cookie).not.toContain('Secure')
    expect((await json<Tokens>(res)).refreshToken).toBeUndefined()
    const rt = tokenIn(cookie)
    expect(rt.length).toBeGreaterThan(40)

    // Cookie refresh needs an allowed Origin.
    const noOrigin = await ctx.call('POST', '/v1/auth/refresh', { body: {}, headers: { cookie: `vstep_refresh=${rt}` } })
    expect(noOrigin.status).toBe(403)
    const evil = await ctx.call('POST', '/v1/auth/refresh', {
      body: {},
      headers: { cookie: `vstep_refresh=${rt}`, origin: 'https://evil.example' },
    })
    expect(evil.status).toBe(403)
    const good = await ctx.call('POST', '/v1/auth/refresh', {
      body: {},
      headers: { cookie: `vstep_refresh=${rt}`, origin: 'http://localhost:5173' },
    })
    expect(good.status).toBe(200)
    const rotated = tokenIn(cookieOf(good))
    expect(rotated).not.toBe(rt)
    expect((await json<Tokens>(good)).refreshToken).toBeUndefined()

    // Browsers may send no body at all on a cookie-only refresh or logout.
    const again = await ctx.call('POST', '/v1/auth/refresh', {
      headers: { cookie: `vstep_refresh=${rt}`, origin: 'http://localhost:5173' },
    })
    expect(again.status).toBe(200)
    expect(tokenIn(cookieOf(again))).toBe(rotated) // immediate parent inside the grace window: the same child
    const out = await ctx.call('POST', '/v1/auth/logout', {
      headers: { cookie: `vstep_refresh=${rotated}`, origin: 'http://localhost:5173' },
    })
    expect(out.status).toBe(204)
    expect(cookieOf(out)).toContain('Max-Age=0')
    expect(
      (
        await ctx.call('POST', '/v1/auth/refresh', {
          body: {},
          headers: { cookie: `vstep_refresh=${rotated}`, origin: 'http://localhost:5173' },
        })
      ).status,
    ).toBe(401)
  })

  test('the Host header does not decide Secure: off under the test configuration even for a public https host (test/security/cookies.test.ts covers COOKIE_SECURE)', async () => {
    const a = await register(ctx)
    const res = await ctx.app.handle(
      new Request('https://api.vstep.example/v1/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: a.email, password: a.password, client: 'web' }),
      }),
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('set-cookie')).toContain('HttpOnly')
    expect(res.headers.get('set-cookie')).not.toContain('Secure')
  })
})

describe('OpenAPI', () => {
  test('documents both refresh-token transports on the auth routes', async () => {
    const spec = await json<{ paths: Record<string, Record<string, { description?: string }>> }>(await ctx.call('GET', '/openapi/json'))
    expect(spec.paths['/v1/auth/login']!.post!.description).toContain('httpOnly cookie')
    expect(spec.paths['/v1/auth/refresh']!.post!.description).toContain('Origin')
    expect(spec.paths['/v1/auth/refresh']!.post!.description).toContain('body')
  })
})
