import { Elysia } from 'elysia'
import { Problem, TokenPair, User } from '@vstep/contracts'
import type { AppDeps } from '../deps'
import { NO_CONTENT } from '../openapi/document'
import { notFound, unauthorized } from '../platform/problem'
import { clientIp, rateLimit, RateLimiter } from '../platform/rate-limit'
import { assertTrustedOrigin, clearedRefreshCookie, isTrustedOrigin, readCookie, REFRESH_COOKIE, refreshCookie } from './cookies'
import { authenticate, authGuard } from './guard'
import { publicJwks } from './keys'
import { AuthLoginBody, AuthRegisterBody, ChangePasswordBody, DeleteMeBody, IdParams, RefreshBody, SessionList } from './model'
import { PasswordAttempts } from './password-attempts'
import { normaliseEmail } from './passwords'
import { purgeDeletedAudio } from '../submissions/audio'
import {
  changePassword,
  deleteAccount,
  findUser,
  login,
  logoutAll,
  refreshSession,
  registerUser,
  sessionOfRefreshToken,
  type IssuedTokens,
} from './service'
import { listSessions, revokeOwnSession, revokeSessions } from './sessions'
import { hashRefreshToken } from './tokens'
import { errorFields, log } from '../platform/logger'
import { preparedBody } from '../platform/prepared-body'

const TOKEN_TRANSPORT = `Web clients: send \`"client": "web"\` at login; the refresh token is then set as an httpOnly cookie
\`vstep_refresh\` (SameSite=Strict, Path=/v1/auth, Secure per COOKIE_SECURE, on by default in production) and omitted from the JSON. Mobile clients
(default): the refresh token is in the JSON body and must be sent back in the JSON body of /v1/auth/refresh.`

type Transport = 'cookie' | 'body'

/** The presented refresh token and where it came from; cookie-borne ones must pass the Origin check. */
function presentedRefreshToken(deps: AppDeps, request: Request, body: unknown) {
  // The body is optional (web clients send none); when present it has passed RefreshBody.
  const fromBody = (body as { refreshToken?: string } | undefined)?.refreshToken
  if (fromBody) return { token: fromBody, transport: 'body' as Transport }
  const cookie = readCookie(request, REFRESH_COOKIE)
  if (!cookie) return null
  assertTrustedOrigin(deps.config, request)
  return { token: cookie, transport: 'cookie' as Transport }
}

/**
 * `GET /v1/me` from the guard's cached profile: its JSON is built once per profile object (one per
 * cached session facts, which are replaced, never changed, when the user changes) and the same bytes
 * are served until then.
 */
const profileAnswers = new WeakMap<User, Response>()
function profileResponse(profile: User): Response {
  let answer = profileAnswers.get(profile)
  if (answer === undefined) {
    answer = preparedBody(JSON.stringify(User.parse(profile)), 200, { 'content-type': 'application/json' })
    profileAnswers.set(profile, answer)
  }
  return answer
}

export const authRoutes = (deps: AppDeps) => {
  const limiter = new RateLimiter(deps.redis)
  const attempts = new PasswordAttempts(deps, limiter)
  const window = deps.config.RATE_LIMIT_WINDOW_SECONDS
  const idleSeconds = deps.config.REFRESH_IDLE_DAYS * 86_400
  const clientOf = (request: Request, server: Parameters<typeof clientIp>[1]) => ({
    userAgent: request.headers.get('user-agent') ?? undefined,
    ip: clientIp(request, server, deps.config.TRUST_PROXY),
  })
  const deliver = (tokens: IssuedTokens, transport: Transport, set: { headers: Record<string, unknown> }) => {
    if (transport === 'body') return tokens
    set.headers['set-cookie'] = refreshCookie(deps.config, tokens.refreshToken, idleSeconds)
    const { refreshToken: _cookieOnly, ...rest } = tokens
    return rest
  }
  /** A signed-in user's password check: their account's budgets, their address, their share of the gate. */
  const passwordCheckClient = (user: { id: string; email: string }, request: Request, server: Parameters<typeof clientIp>[1]) => ({
    account: normaliseEmail(user.email),
    ip: clientIp(request, server, deps.config.TRUST_PROXY),
    userId: user.id,
  })
  const emailOf = ({ body }: { body: unknown }) => {
    const email = (body as { email?: unknown } | undefined)?.email
    return typeof email === 'string' ? `email:${normaliseEmail(email)}` : undefined
  }

  const refreshTokenOf = ({ body, request }: { body: unknown; request: Request }) => {
    const token = (body as { refreshToken?: string } | undefined)?.refreshToken ?? readCookie(request, REFRESH_COOKIE)
    return token ? `rt:${hashRefreshToken(token)}` : undefined
  }

  return new Elysia()
    .use(authGuard(deps))
    .use(rateLimit({ limiter, trustProxy: deps.config.TRUST_PROXY }))
    .get('/.well-known/jwks.json', () => publicJwks(deps.keys), { detail: { tags: ['auth'], summary: 'Public keys of access tokens' } })
    .group('/v1/auth', (app) =>
      app
        .post(
          '/register',
          async ({ body, request, server, set }) => {
            const ip = clientIp(request, server, deps.config.TRUST_PROXY)
            const created = await registerUser(deps, body, ip ? [`ip:${ip}`] : [])
            set.status = 201
            return created
          },
          {
            body: AuthRegisterBody,
            rateLimit: { name: 'register', limit: deps.config.RATE_LIMIT_REGISTER, windowSeconds: window, account: emailOf },
            response: { 201: User, 409: Problem, 422: Problem, 429: Problem },
            detail: {
              tags: ['auth'],
              summary: 'Create a learner account',
              description: `Password: 8–128 characters, not a commonly used one. Email is normalised (trimmed, lower-case).
Rate-limited per IP and per email (RATE_LIMIT_REGISTER per RATE_LIMIT_WINDOW_SECONDS): 429 with Retry-After, RateLimit-Policy and RateLimit headers.`,
            },
          },
        )
        .post(
          '/login',
          async ({ body, request, server, set }) => {
            const client = clientOf(request, server)
            const verify = await attempts.begin({ account: normaliseEmail(body.email), ip: client.ip }, set)
            const tokens = await login(deps, body.email, body.password, client, verify)
            return deliver(tokens, body.client === 'web' ? 'cookie' : 'body', set)
          },
          {
            body: AuthLoginBody,
            response: { 200: TokenPair, 401: Problem, 429: Problem, 503: Problem },
            detail: {
              tags: ['auth'],
              summary: 'Sign in with email and password',
              description: `Opens a session (at most MAX_SESSIONS_PER_USER; the oldest is ended). ${TOKEN_TRANSPORT}
Unknown email and wrong password get the same 401. Failed attempts are rate-limited per (email, client address) pair
(RATE_LIMIT_LOGIN), per email (RATE_LIMIT_LOGIN_ACCOUNT) and per address (RATE_LIMIT_LOGIN_IP_FAILURES), all checks per
address (RATE_LIMIT_LOGIN_IP); see docs/auth.md. 429 + Retry-After past a limit or when this client already has
ARGON2_PER_CLIENT password checks in progress; 503 + Retry-After when password hashing is saturated.`,
            },
          },
        )
        .post(
          '/refresh',
          async ({ body, request, set }) => {
            const presented = presentedRefreshToken(deps, request, body)
            if (!presented) throw unauthorized('a refresh token is required (JSON body or cookie)')
            return deliver(await refreshSession(deps, presented.token), presented.transport, set)
          },
          {
            body: RefreshBody,
            rateLimit: {
              name: 'refresh',
              limit: deps.config.RATE_LIMIT_REFRESH,
              windowSeconds: window,
              account: refreshTokenOf,
            },
            response: { 200: TokenPair, 401: Problem, 403: Problem, 429: Problem },
            detail: {
              tags: ['auth'],
              summary: 'Rotate the refresh token and get a new access token',
              security: [{}, { refreshCookie: [] }], // body token (mobile) or cookie (web)
              description: `Mobile: \`{"refreshToken": "…"}\` in the body, the new one comes back in the body. Web: no body; the
\`vstep_refresh\` cookie is read, the request must carry an allowed Origin header, and the new token is set as the cookie.
Every refresh rotates the token. Presenting an already-rotated token revokes the whole session (its access tokens stop
working at once), except within REFRESH_REUSE_GRACE_SECONDS for the immediate parent, which returns the same new token
(a client's own concurrent double refresh). Rate-limited (RATE_LIMIT_REFRESH).`,
            },
          },
        )
        .post(
          '/logout',
          async ({ body, request, headers, set }) => {
            // Every check comes before any cookie is touched: a refused request (a cross-site form
            // with the victim's cookie, an unknown caller) must leave the cookie where it is.
            const presented = presentedRefreshToken(deps, request, body)
            let sessionId: string | undefined
            if (presented) sessionId = (await sessionOfRefreshToken(deps, hashRefreshToken(presented.token)))?.sessionId
            else if (headers.authorization) sessionId = (await authenticate(deps, headers.authorization)).sessionId
            else throw unauthorized('send the refresh token (body or cookie) or an access token')
            if (sessionId) await revokeSessions(deps, [sessionId], 'logout')
            // Only our own pages may clear the cookie (a body or Bearer logout from elsewhere leaves it).
            if (readCookie(request, REFRESH_COOKIE) && isTrustedOrigin(deps.config, request)) {
              set.headers['set-cookie'] = clearedRefreshCookie(deps.config)
            }
            set.status = 204
          },
          {
            body: RefreshBody,
            response: { 401: Problem, 403: Problem },
            detail: {
              tags: ['auth'],
              summary: 'End the current session',
              security: [{}, { refreshCookie: [] }, { bearer: [] }],
              ...NO_CONTENT,
              description: `Identifies the session by its refresh token (JSON body for mobile; cookie + allowed Origin for web) or,
without one, by the Bearer access token. Clears the cookie, only for a request from an allowed Origin; a refused request
(403, 401) never touches it. 204 even for an unknown refresh token.`,
            },
          },
        )
        .post(
          '/logout-all',
          async ({ user, set }) => {
            await logoutAll(deps, user.id)
            set.headers['set-cookie'] = clearedRefreshCookie(deps.config)
            set.status = 204
          },
          {
            auth: true,
            detail: {
              tags: ['auth'],
              summary: 'End every session of the signed-in user',
              ...NO_CONTENT,
              description: 'All refresh tokens and access tokens of the user stop working.',
            },
          },
        )
        .get('/sessions', async ({ user }) => ({ items: await listSessions(deps, user.id, user.sessionId) }), {
          auth: true,
          response: { 200: SessionList },
          detail: {
            tags: ['auth'],
            summary: 'Live sessions of the signed-in user',
            description: '`current` marks the session of the calling access token.',
          },
        })
        .delete(
          '/sessions/:id',
          async ({ user, params, set }) => {
            if (!(await revokeOwnSession(deps, user.id, params.id))) throw notFound('session')
            set.status = 204
          },
          {
            auth: true,
            params: IdParams,
            response: { 404: Problem },
            detail: {
              tags: ['auth'],
              summary: 'End one of your sessions',
              ...NO_CONTENT,
              description: '404 for a session that is not yours or already ended.',
            },
          },
        )
        .post(
          '/password',
          async ({ user, body, request, server, set }) => {
            const verify = await attempts.begin(passwordCheckClient(user, request, server), set)
            await changePassword(deps, user, body, verify)
            set.status = 204
          },
          {
            auth: true,
            body: ChangePasswordBody,
            response: { 403: Problem, 422: Problem, 429: Problem, 503: Problem },
            detail: {
              tags: ['auth'],
              summary: 'Change the password',
              ...NO_CONTENT,
              description: `Requires the current password (403 when wrong). Every other session of the user ends; this one stays.
Wrong current passwords count against the same limits as failed logins of this account (docs/auth.md): 429 + Retry-After.`,
            },
          },
        ),
    )
    .get(
      '/v1/me',
      async ({ user }) => {
        // Held by the guard's session cache; serialised once per cached session, not per request.
        if (user.profile) return profileResponse(user.profile)
        const me = await findUser(deps, user.id)
        if (!me) throw notFound('user')
        return profileResponse(me)
      },
      { auth: true, response: { 200: User }, detail: { tags: ['me'], summary: 'The signed-in user' } },
    )
    .delete(
      '/v1/me',
      async ({ user, body, request, server, set }) => {
        const verify = await attempts.begin(passwordCheckClient(user, request, server), set)
        await deleteAccount(deps, user.id, body.password, verify)
        // The cascade queued the account's recordings (audio_deletions): remove them from storage now.
        await purgeDeletedAudio(deps).catch((error) => log.error(errorFields(error), 'audio purge after account deletion failed'))
        set.headers['set-cookie'] = clearedRefreshCookie(deps.config)
        set.status = 204
      },
      {
        auth: true,
        body: DeleteMeBody,
        response: { 403: Problem, 429: Problem, 503: Problem },
        detail: {
          tags: ['me'],
          summary: 'Delete the account for good',
          ...NO_CONTENT,
          description: `Requires \`{"password": "…"}\`. Deletes the user and, by cascade, every row of theirs (sessions, tokens, submissions, grades, events).
Wrong passwords count against the same limits as failed logins of this account (docs/auth.md): 429 + Retry-After.`,
        },
      },
    )
}
