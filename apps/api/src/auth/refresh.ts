import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { and, eq, isNull, sql } from 'drizzle-orm'
import { refreshTokens, sessions, users } from '@vstep/db'
import type { AppDeps } from '../deps'
import { ProblemError } from '../platform/problem'
import { announceRevoked, revokeSessionRows } from './sessions'
import { hashRefreshToken, newRefreshToken } from './tokens'
import { log } from '../platform/logger'

/*
 * Refresh-token rotation with reuse detection (RFC 9700 §4.14.2, OAuth 2.1).
 *
 * One session = one family. Each refresh presents token P and, in ONE transaction:
 *   UPDATE refresh_tokens SET used_at = now(), child_sealed = seal(C, P)
 *    WHERE token_hash = sha256(P) AND used_at IS NULL AND revoked_at IS NULL  (and the session is live)
 *   RETURNING ...
 * then inserts the child C (parent_id = P's row). The conditional UPDATE is a compare-and-swap:
 * two concurrent refreshes with P serialise on the row lock, and the second re-checks `used_at IS
 * NULL` after the first commits, so exactly one child is ever minted per token.
 *
 * Grace window (default 10 s, REFRESH_REUSE_GRACE_SECONDS): a client firing two refreshes at once
 * (two tabs, a retry after a lost response) must not log itself out. The loser of the race, or a
 * retry within the window, gets the ALREADY-ISSUED child back rather than a second live child:
 *   - C is stored on P's row encrypted with AES-256-GCM under K = SHA-256("…grace-key…" ‖ P). The
 *     server stores only sha256(P), never P, so neither the database nor anyone without P can open
 *     it; whoever presents P (the only party the grace is for) can, and we check sha256(C) against
 *     the child row before returning it.
 *   - It applies only while P's child is itself unused and unrevoked, i.e. P is the IMMEDIATE parent
 *     of the active token; replaying a grand-parent (whose child was already rotated) is reuse even
 *     inside the window (cf. django-oauth-toolkit #1617).
 *   - Deterministic re-derivation (C = HMAC(secret, P)) was rejected: it makes the whole chain
 *     computable from one token plus one server secret. Random C + sealed copy keeps each rotation's
 *     fresh entropy, needs no new secret, and the blob is wiped when C is rotated in turn.
 * Anything else — a used token outside the window, or not the immediate parent — is reuse: the
 * whole session (family) is revoked in the database, its refresh tokens are revoked, and its id goes
 * to the Redis revoke store, so the session's access tokens are refused on their next request.
 *
 * Expiry: a session ends at `expires_at` (absolute, REFRESH_ABSOLUTE_DAYS) and after
 * REFRESH_IDLE_DAYS without a refresh (`last_used_at`); both are compared with the database clock.
 */

const GRACE_KEY_LABEL = 'vstep refresh-token grace key v1\0'
const graceKey = (parent: string) => createHash('sha256').update(GRACE_KEY_LABEL).update(parent).digest()

/** Encrypts the child token under a key only the holder of the parent token can derive. */
export function sealChild(child: string, parent: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', graceKey(parent), iv)
  const body = Buffer.concat([cipher.update(child, 'utf8'), cipher.final()])
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
}

/** Null when the blob was not sealed for this parent token or was tampered with. */
export function openChild(sealed: string, parent: string): string | null {
  try {
    const raw = Buffer.from(sealed, 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', graceKey(parent), raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(raw.length - 16))
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8')
  } catch {
    return null
  }
}

export type RefreshOutcome = { userId: string; sessionId: string; refreshToken: string; kind: 'rotated' | 'grace' }

const sessionEnded = () => new ProblemError(401, 'Unauthorized', 'the refresh token is invalid, expired or revoked; sign in again')

export async function rotateRefreshToken(deps: AppDeps, presented: string): Promise<RefreshOutcome> {
  const { REFRESH_IDLE_DAYS: idleDays, REFRESH_REUSE_GRACE_SECONDS: graceSeconds } = deps.config
  const presentedHash = hashRefreshToken(presented)
  const child = newRefreshToken()
  const sealed = sealChild(child.token, presented)

  const rotated = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(refreshTokens)
      .set({ usedAt: sql`now()`, childSealed: sealed })
      .where(
        and(
          eq(refreshTokens.tokenHash, presentedHash),
          isNull(refreshTokens.usedAt),
          isNull(refreshTokens.revokedAt),
          sql`exists (select 1 from ${sessions} s where s.id = ${refreshTokens.sessionId} and s.revoked_at is null
                and s.expires_at > now() and s.last_used_at > now() - make_interval(days => ${idleDays}))`,
        ),
      )
      .returning({ id: refreshTokens.id, sessionId: refreshTokens.sessionId, parentId: refreshTokens.parentId })
    if (!row) return null
    await tx.insert(refreshTokens).values({ sessionId: row.sessionId, tokenHash: child.hash, parentId: row.id })
    // The grand-parent's sealed copy of the presented token has served its purpose.
    if (row.parentId) await tx.update(refreshTokens).set({ childSealed: null }).where(eq(refreshTokens.id, row.parentId))
    const [session] = await tx
      .update(sessions)
      .set({ lastUsedAt: sql`now()` })
      .where(eq(sessions.id, row.sessionId))
      .returning({ userId: sessions.userId })
    return { sessionId: row.sessionId, userId: session!.userId }
  })
  if (rotated) return { ...rotated, refreshToken: child.token, kind: 'rotated' }

  // Not rotatable: unknown, expired/revoked family, a concurrent double refresh, or reuse.
  const [seen] = await deps.db
    .select({
      id: refreshTokens.id,
      sessionId: refreshTokens.sessionId,
      usedAt: refreshTokens.usedAt,
      revokedAt: refreshTokens.revokedAt,
      childSealed: refreshTokens.childSealed,
      inGrace: sql<boolean>`${refreshTokens.usedAt} > now() - make_interval(secs => ${graceSeconds})`,
      userId: sessions.userId,
      sessionLive: sql<boolean>`${sessions.revokedAt} is null and ${sessions.expiresAt} > now()
        and ${sessions.lastUsedAt} > now() - make_interval(days => ${idleDays})`,
    })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, presentedHash))
  if (!seen || !seen.sessionLive || seen.revokedAt) throw sessionEnded()

  if (seen.usedAt && seen.inGrace && seen.childSealed) {
    const [active] = await deps.db
      .select({ tokenHash: refreshTokens.tokenHash })
      .from(refreshTokens)
      .where(and(eq(refreshTokens.parentId, seen.id), isNull(refreshTokens.usedAt), isNull(refreshTokens.revokedAt)))
    const childToken = active ? openChild(seen.childSealed, presented) : null
    if (active && childToken && timingSafeEqual(Buffer.from(hashRefreshToken(childToken)), Buffer.from(active.tokenHash))) {
      return { userId: seen.userId, sessionId: seen.sessionId, refreshToken: childToken, kind: 'grace' }
    }
  }

  // Reuse of a rotated token: the family is compromised; end it everywhere.
  const ended = await deps.db.transaction((tx) => revokeSessionRows(tx, [seen.sessionId], 'refresh_token_reuse'))
  await announceRevoked(deps, [seen.sessionId])
  if (ended.length > 0) {
    log.warn({ component: 'security', session_id: seen.sessionId, user_id: seen.userId }, 'refresh token reuse detected: session revoked')
  }
  throw sessionEnded()
}

/** The role and profile needed to mint an access token after a refresh. */
export async function userForToken(deps: AppDeps, userId: string) {
  const [row] = await deps.db.select().from(users).where(eq(users.id, userId))
  if (!row) throw sessionEnded()
  return row
}
