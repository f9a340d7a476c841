import { and, eq, sql } from 'drizzle-orm'
import { sessions, users } from '@vstep/db'
import type { AppDeps } from '../deps'
import type { RedisHandle } from '../platform/redis'
import { revokeStore } from './revoke-store'
import { AUTH_CHANNEL, type AuthChange, issuedBefore, judge, parseAuthChange, SessionCache, type SessionFacts } from './session-cache'
import type { AccessClaims } from './tokens'

/**
 * Revocation across API instances (docs/auth.md, "Revocation"): every change is committed to
 * PostgreSQL first, then written as Redis markers (TTL one access-token lifetime) and published on
 * {@link AUTH_CHANNEL}; each instance applies the messages to its {@link SessionCache}, so the
 * next request on any instance sees the change (in practice within milliseconds). While the channel
 * is not subscribed (Redis down, or just reconnecting) the cache is not used and every request asks
 * PostgreSQL, as before.
 */
type AuthMemory = { cache: SessionCache; live: () => boolean }

const memories = new WeakMap<RedisHandle, AuthMemory>()

export function authMemory(deps: Pick<AppDeps, 'redis' | 'config'>): AuthMemory {
  let memory = memories.get(deps.redis)
  if (!memory) {
    const cache = new SessionCache((deps.config.ACCESS_TOKEN_TTL_SECONDS + 60) * 1000)
    const subscriber = deps.redis.subscriber
    subscriber.on(
      AUTH_CHANNEL,
      (message) => {
        const change = parseAuthChange(message)
        if (change) cache.apply(change, Date.now())
      },
      () => cache.clear(),
    )
    memory = { cache, live: () => subscriber.isLive(AUTH_CHANNEL) }
    memories.set(deps.redis, memory)
  }
  return memory
}

/**
 * Announces a committed change: this instance's cache at once, then the Redis markers, then every
 * other instance. Best effort past the commit: if Redis is down, other instances have lost their
 * channel too and ask the database on every request.
 */
export async function publishAuthChange(deps: AppDeps, change: AuthChange): Promise<void> {
  authMemory(deps).cache.apply(change, Date.now())
  const store = revokeStore(deps)
  if (change.kind === 'sessions') await store.markRevoked(change.ids)
  else if (change.cutoff !== undefined) await store.markUserCutoff(change.id, change.cutoff)
  try {
    await deps.redis.run((c) => c.publish(AUTH_CHANNEL, JSON.stringify(change)))
  } catch (error) {
    deps.redis.warn('could not publish an auth change (other instances re-read it within a minute)', error)
  }
}

/** The session as PostgreSQL sees it now; null when it is gone, revoked or not the token's user's. */
export async function loadSessionFacts(deps: AppDeps, claims: AccessClaims): Promise<SessionFacts | 'revoked' | null> {
  const [row] = await deps.db
    .select({
      userId: users.id,
      role: users.role,
      email: users.email,
      displayName: users.displayName,
      createdAt: users.createdAt,
      revoked: sql<boolean>`${sessions.revokedAt} is not null`,
      expiresAt: sql<number>`extract(epoch from ${sessions.expiresAt})::float8`,
      tokensValidAfter: sql<number>`extract(epoch from ${users.tokensValidAfter})::float8`,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, claims.sid), eq(users.id, claims.sub)))
  if (!row) return null
  if (row.revoked) return 'revoked'
  return {
    userId: row.userId,
    role: row.role,
    email: row.email,
    displayName: row.displayName,
    createdAt: row.createdAt.toISOString(),
    expiresAt: Number(row.expiresAt),
    tokensValidAfter: Number(row.tokensValidAfter),
  }
}

/**
 * The caller's session facts for verified claims, or null when the token must be refused. From
 * memory when the channel is live; otherwise (or on a miss) the Redis markers refuse known-revoked
 * tokens, and PostgreSQL decides the rest.
 */
export async function sessionFor(deps: AppDeps, claims: AccessClaims): Promise<SessionFacts | null> {
  const memory = authMemory(deps)
  const live = memory.live()
  const now = Date.now()
  if (live) {
    const known = memory.cache.lookup(claims, now)
    if (known === 'refused') return null
    if (known) return known
  }
  const epoch = memory.cache.epoch
  const markers = await revokeStore(deps).markers(claims.sid, claims.sub)
  if (markers?.sessionRevoked) {
    memory.cache.revoke([claims.sid], now)
    return null
  }
  if (markers?.userCutoff != null && issuedBefore(claims.iat, markers.userCutoff)) return null
  const facts = await loadSessionFacts(deps, claims)
  if (facts === 'revoked') {
    memory.cache.revoke([claims.sid], now)
    return null
  }
  if (!facts) return null
  if (live) memory.cache.store(epoch, claims.sid, facts, now)
  return judge(facts, claims, Date.now() / 1000) ? facts : null
}
