import { and, eq, isNull, sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import type { User, UserRole } from '@vstep/contracts'
import { sessions, users } from '@vstep/db'
import type { AppDeps } from '../deps'
import { withPreBodyCheck } from '../platform/body-guard'
import { forbidden, unauthorized } from '../platform/problem'
import { revokeStore } from './revoke-store'
import { sessionFor } from './revocation'
import type { SessionFacts } from './session-cache'
import type { AccessClaims } from './tokens'
import { verifiedTokens } from './verified-tokens'

/** `profile`: the caller's profile when the guard already holds it (session-cache.ts), so `GET /v1/me` needs no query. */
export type CurrentUser = { id: string; role: UserRole; sessionId: string; email: string; profile?: User }

export const tokenSettings = (deps: AppDeps) => ({
  issuer: deps.config.JWT_ISSUER,
  audience: deps.config.JWT_AUDIENCE,
  ttlSeconds: deps.config.ACCESS_TOKEN_TTL_SECONDS,
})

/** The claims of a Bearer access token whose signature verified (once per distinct token: verified-tokens.ts). */
async function verifiedClaims(deps: AppDeps, authorization: string | undefined): Promise<AccessClaims> {
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1]
  if (!token) throw unauthorized()
  const claims = await verifiedTokens(deps.keys, tokenSettings(deps)).verify(token)
  if (!claims) throw unauthorized('the access token is invalid or expired')
  return claims
}

/**
 * Resolves the caller from a Bearer access token. Beyond the signature, the token's session must
 * still be live and the token must not predate the user's `tokensValidAfter`, so a revoked session
 * or a logout-all takes effect on the next request. The database is the truth and is always
 * consulted; the Redis revoke store only short-circuits tokens already known to be revoked.
 */
export async function authenticate(deps: AppDeps, authorization: string | undefined): Promise<CurrentUser> {
  const claims = await verifiedClaims(deps, authorization)
  // Fast path: a session known revoked in Redis is refused without touching the database.
  if (await revokeStore(deps).isRevoked(claims.sid)) throw unauthorized('the session has ended')
  const [row] = await deps.db
    .select({ id: users.id, role: users.role, email: users.email })
    .from(users)
    .innerJoin(sessions, eq(sessions.userId, users.id))
    .where(
      and(
        eq(users.id, claims.sub),
        eq(sessions.id, claims.sid),
        isNull(sessions.revokedAt),
        sql`${sessions.expiresAt} > now()`,
        sql`${users.tokensValidAfter} <= to_timestamp(${claims.iat + 1})`,
      ),
    )
  if (!row) throw unauthorized('the session has ended')
  return { id: row.id, role: row.role, email: row.email, sessionId: claims.sid }
}

/**
 * The guard's path: the same decision as {@link authenticate}, but from this instance's memory of
 * sessions, kept current across instances by Redis pub/sub (revocation.ts); PostgreSQL is asked on a
 * miss and whenever the invalidation channel is down.
 */
export async function authenticateCached(deps: AppDeps, authorization: string | undefined): Promise<CurrentUser> {
  const claims = await verifiedClaims(deps, authorization)
  const facts = await sessionFor(deps, claims)
  if (!facts) throw unauthorized('the session has ended')
  return { id: facts.userId, role: facts.role, email: facts.email, sessionId: claims.sid, profile: profileOf(facts) }
}

/** One profile object per cached session facts, so its JSON can be kept beside it (`GET /v1/me`). */
const profiles = new WeakMap<SessionFacts, User>()
function profileOf(facts: SessionFacts): User {
  let profile = profiles.get(facts)
  if (!profile) {
    profile = { id: facts.userId, email: facts.email, displayName: facts.displayName, role: facts.role, createdAt: facts.createdAt }
    profiles.set(facts, profile)
  }
  return profile
}

/** One verification per request: the body gate authenticates before parsing, the resolve reuses it. */
const callerOf = new WeakMap<Request, Promise<CurrentUser>>()
function authenticateOnce(deps: AppDeps, request: Request): Promise<CurrentUser> {
  let caller = callerOf.get(request)
  if (!caller) {
    caller = authenticateCached(deps, request.headers.get('authorization') ?? undefined)
    callerOf.set(request, caller)
  }
  return caller
}

/**
 * `{ auth: true }` requires any signed-in user; `{ auth: ['admin'] }` also requires one of the roles.
 * The check also runs before the body is read (body-guard.ts) and before query/params validation:
 * an anonymous or under-privileged caller gets 401/403 without its input being parsed or validated,
 * so never a 422 with schema details.
 */
export const authGuard = (deps: AppDeps) =>
  new Elysia({ name: 'auth-guard' }).macro({
    auth: (roles: true | readonly UserRole[]) => {
      const authorised = async (request: Request) => {
        const user = await authenticateOnce(deps, request)
        if (roles !== true && !roles.includes(user.role)) throw forbidden()
        return user
      }
      return {
        // The OpenAPI document (openapi/document.ts) reads this: the operation needs a bearer token.
        detail: { security: [{ bearer: [] as string[] }] },
        // Routes without a body: before the query/params are validated (transform precedes validation).
        transform: async ({ request }: { request: Request }) => {
          await authorised(request)
        },
        resolve: withPreBodyCheck(
          async ({ request }: { request: Request }) => ({ user: await authorised(request) }),
          async ({ request }) => ({
            user: await authorised(request),
          }),
        ),
      }
    },
  })
