import { expect } from 'bun:test'
import type { TestContext } from '../support/context'

export type Tokens = { accessToken: string; refreshToken?: string; user: { id: string; role: string } }

export const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T

/** Registers an account (any email) and returns its credentials. */
export async function register(
  ctx: TestContext,
  email = `u-${crypto.randomUUID()}@example.test`,
  password = 'correct horse battery staple',
) {
  const res = await ctx.call('POST', '/v1/auth/register', { body: { email, password, displayName: 'Someone' } })
  expect(res.status).toBe(201)
  return { email, password, id: (await json<{ id: string }>(res)).id }
}

export async function login(ctx: TestContext, email: string, password: string, headers: Record<string, string> = {}) {
  const res = await ctx.call('POST', '/v1/auth/login', { body: { email, password }, headers })
  expect(res.status).toBe(200)
  return json<Tokens>(res)
}

export const refresh = (ctx: TestContext, refreshToken: string) => ctx.call('POST', '/v1/auth/refresh', { body: { refreshToken } })
export const me = (ctx: TestContext, token: string) => ctx.call('GET', '/v1/me', { token })
