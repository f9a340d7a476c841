import { Elysia } from 'elysia'
import { LoginBody, Problem, RegisterBody, TokenPair, User } from '@vstep/contracts'
import type { AppDeps } from '../deps'
import { notFound } from '../platform/problem'
import { authGuard } from './guard'
import { publicJwks } from './keys'
import { findUser, login, registerUser } from './service'

const clientOf = (request: Request, ip: string | undefined) => ({
  userAgent: request.headers.get('user-agent') ?? undefined,
  ip,
})

export const authRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'auth' })
    .use(authGuard(deps))
    .get('/.well-known/jwks.json', () => publicJwks(deps.keys), { detail: { tags: ['auth'], summary: 'Public keys of access tokens' } })
    .group('/v1/auth', (app) =>
      app
        .post(
          '/register',
          async ({ body, set }) => {
            set.status = 201
            return registerUser(deps, body)
          },
          { body: RegisterBody, response: { 201: User, 409: Problem }, detail: { tags: ['auth'], summary: 'Create a learner account' } },
        )
        .post(
          '/login',
          ({ body, request, server }) => login(deps, body.email, body.password, clientOf(request, server?.requestIP(request)?.address)),
          { body: LoginBody, response: { 200: TokenPair, 401: Problem }, detail: { tags: ['auth'], summary: 'Sign in with email and password' } },
        ),
    )
    .get(
      '/v1/me',
      async ({ user }) => {
        const me = await findUser(deps, user.id)
        if (!me) throw notFound('user')
        return me
      },
      { auth: true, response: { 200: User }, detail: { tags: ['me'], summary: 'The signed-in user' } },
    )
