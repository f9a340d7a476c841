/**
 * Issue 11, findings 7 and 8: the refresh cookie of web clients. A cross-site logout must not clear
 * it, and its `Secure` flag comes from COOKIE_SECURE (on by default in production), never from the
 * Host header a client sends.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestContext, type TestContext } from '../support/context'

const PASSWORD = 'correct horse battery staple'
const OUR_PAGE = 'http://localhost:5173' // in CORS_ORIGINS by default

async function webLogin(ctx: TestContext, url = 'http://localhost/v1/auth/login', headers: Record<string, string> = {}) {
  const email = `c-${crypto.randomUUID()}@example.test`
  expect((await ctx.call('POST', '/v1/auth/register', { body: { email, password: PASSWORD, displayName: 'C' } })).status).toBe(201)
  const res = await ctx.app.handle(
    new Request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ email, password: PASSWORD, client: 'web' }),
    }),
  )
  expect(res.status).toBe(200)
  const cookie = res.headers.get('set-cookie') ?? ''
  return { cookie, token: cookie.match(/vstep_refresh=([^;]+)/)?.[1] ?? '' }
}

describe('finding 7: a cross-site logout leaves the cookie alone', () => {
  let ctx: TestContext
  beforeAll(async () => {
    ctx = await createTestContext()
  })
  afterAll(() => ctx.close())

  const logout = (token: string, headers: Record<string, string>) =>
    ctx.call('POST', '/v1/auth/logout', { headers: { cookie: `vstep_refresh=${token}`, ...headers } })
  const refresh = (token: string) =>
    ctx.call('POST', '/v1/auth/refresh', { headers: { cookie: `vstep_refresh=${token}`, origin: OUR_PAGE } })

  test('a foreign Origin (or none) with the cookie: 403, no Set-Cookie, and the session lives on', async () => {
    const { token } = await webLogin(ctx)
    const attempts: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'null' }, {}]
    for (const headers of attempts) {
      const res = await logout(token, headers)
      expect(res.status).toBe(403)
      expect(res.headers.get('set-cookie')).toBeNull()
    }
    // Not logged out: the cookie still refreshes from our own page.
    const next = await refresh(token)
    expect(next.status).toBe(200)
    const rotated = next.headers.get('set-cookie')?.match(/vstep_refresh=([^;]+)/)?.[1]
    expect(rotated).toBeString()

    // From our own page, logout ends the session and clears the cookie.
    const out = await logout(rotated!, { origin: OUR_PAGE })
    expect(out.status).toBe(204)
    expect(out.headers.get('set-cookie')).toStartWith('vstep_refresh=; Path=/v1/auth; Max-Age=0;')
    expect((await refresh(rotated!)).status).toBe(401)
  })

  test('a logout refused for want of any credential does not clear the cookie either', async () => {
    const res = await ctx.call('POST', '/v1/auth/logout', { headers: { origin: OUR_PAGE } })
    expect(res.status).toBe(401)
    expect(res.headers.get('set-cookie')).toBeNull()
  })
})

describe('finding 8: Secure follows COOKIE_SECURE, not the request', () => {
  let secure: TestContext
  let plain: TestContext
  beforeAll(async () => {
    ;[secure, plain] = await Promise.all([createTestContext({ COOKIE_SECURE: 'true' }), createTestContext()])
  })
  afterAll(async () => {
    await Promise.all([secure.close(), plain.close()])
  })

  // Each pair: the URL the server would build from the client's Host header, plus forwarding headers.
  const spoofs: [string, Record<string, string>][] = [
    ['http://localhost/v1/auth/login', {}],
    ['http://127.0.0.1:3000/v1/auth/login', { 'x-forwarded-proto': 'http' }],
    ['http://app.localhost/v1/auth/login', { 'x-forwarded-host': 'localhost' }],
    ['https://api.vstep.example/v1/auth/login', { 'x-forwarded-proto': 'https' }],
  ]

  test('COOKIE_SECURE=true: Secure whatever Host the client claims, on login, refresh and logout', async () => {
    for (const [url, headers] of spoofs) {
      const { cookie, token } = await webLogin(secure, url, headers)
      expect(cookie).toEndWith('; HttpOnly; SameSite=Strict; Secure')
      const next = await secure.call('POST', '/v1/auth/refresh', { headers: { cookie: `vstep_refresh=${token}`, origin: OUR_PAGE } })
      expect(next.headers.get('set-cookie')).toEndWith('; Secure')
      const rotated = next.headers.get('set-cookie')!.match(/vstep_refresh=([^;]+)/)![1]!
      const out = await secure.call('POST', '/v1/auth/logout', { headers: { cookie: `vstep_refresh=${rotated}`, origin: OUR_PAGE } })
      expect(out.headers.get('set-cookie')).toEndWith('; Secure')
    }
  })

  test('COOKIE_SECURE unset outside production: no Secure, whatever Host the client claims', async () => {
    for (const [url, headers] of spoofs) {
      const { cookie } = await webLogin(plain, url, headers)
      expect(cookie).toEndWith('; HttpOnly; SameSite=Strict')
    }
  })

  test('over a real socket, a spoofed Host header does not change the flag', async () => {
    secure.app.listen({ port: 0, hostname: '127.0.0.1' })
    try {
      const email = `sock-${crypto.randomUUID()}@example.test`
      expect((await secure.call('POST', '/v1/auth/register', { body: { email, password: PASSWORD, displayName: 'S' } })).status).toBe(201)
      const res = await fetch(`http://127.0.0.1:${secure.app.server!.port}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', host: 'localhost' },
        body: JSON.stringify({ email, password: PASSWORD, client: 'web' }),
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('set-cookie')).toEndWith('; Secure')
    } finally {
      await secure.app.stop(true)
    }
  })
})
