import { and, desc, eq, gt, inArray, isNull, sql } from 'drizzle-orm'
import { refreshTokens, sessions } from '@vstep/db'
import type { AppDeps } from '../deps'
import { publishAuthChange } from './revocation'

export type RevokeReason =
  | 'logout'
  | 'logout_all'
  | 'user_revoked'
  | 'refresh_token_reuse'
  | 'session_limit'
  | 'password_change'
  | 'expired'

type Db = AppDeps['db']
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

/**
 * Ends sessions in the database (the truth) and kills their refresh tokens, inside `tx` if given.
 * Returns the ids that were live. Callers then call {@link announceRevoked} after commit.
 */
export async function revokeSessionRows(db: Db | Tx, sessionIds: readonly string[], reason: RevokeReason): Promise<string[]> {
  if (sessionIds.length === 0) return []
  const ended = await db
    .update(sessions)
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where(and(inArray(sessions.id, [...sessionIds]), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id })
  await db
    .update(refreshTokens)
    .set({ revokedAt: sql`now()`, childSealed: null })
    .where(and(inArray(refreshTokens.sessionId, [...sessionIds]), isNull(refreshTokens.revokedAt)))
  return ended.map((s) => s.id)
}

/** Publishes committed revocations: markers in Redis and every instance's session cache (revocation.ts). */
export const announceRevoked = async (deps: AppDeps, sessionIds: readonly string[]) => {
  if (sessionIds.length > 0) await publishAuthChange(deps, { kind: 'sessions', ids: [...sessionIds] })
}

export async function revokeSessions(deps: AppDeps, sessionIds: readonly string[], reason: RevokeReason): Promise<string[]> {
  const ended = await deps.db.transaction((tx) => revokeSessionRows(tx, sessionIds, reason))
  await announceRevoked(deps, sessionIds)
  return ended
}

/** Every live session of a user, except `keep` (the caller's own, for "log out other sessions"). */
export async function revokeUserSessions(deps: AppDeps, userId: string, reason: RevokeReason, keep?: string): Promise<string[]> {
  const live = await deps.db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
  return revokeSessions(
    deps,
    live.map((s) => s.id).filter((id) => id !== keep),
    reason,
  )
}

export type SessionView = {
  id: string
  createdAt: string
  lastUsedAt: string
  expiresAt: string
  userAgent: string | null
  ip: string | null
  current: boolean
}

/** Live sessions of a user (not revoked, not past absolute or idle expiry), newest first. */
export async function listSessions(deps: AppDeps, userId: string, currentSessionId: string): Promise<SessionView[]> {
  const rows = await deps.db
    .select()
    .from(sessions)
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql`now()`),
        gt(sessions.lastUsedAt, sql`now() - make_interval(days => ${deps.config.REFRESH_IDLE_DAYS})`),
      ),
    )
    .orderBy(desc(sessions.createdAt))
  return rows.map((s) => ({
    id: s.id,
    createdAt: s.createdAt.toISOString(),
    lastUsedAt: s.lastUsedAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    userAgent: s.userAgent,
    ip: s.ip,
    current: s.id === currentSessionId,
  }))
}

/** Revokes one of the user's own sessions; false when it is not theirs or does not exist (→ 404). */
export async function revokeOwnSession(deps: AppDeps, userId: string, sessionId: string): Promise<boolean> {
  const [row] = await deps.db
    .select({ id: sessions.id, revokedAt: sessions.revokedAt })
    .from(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
  if (!row || row.revokedAt) return false
  await revokeSessions(deps, [sessionId], 'user_revoked')
  return true
}
