import { and, eq, isNull, ne, sql } from 'drizzle-orm'
import type { RegisterBody, TokenPair, User } from '@vstep/contracts'
import { refreshTokens, sessions, users } from '@vstep/db'
import type { AppDeps } from '../deps'
import { ProblemError } from '../platform/problem'
import { transactionWithRetry } from '../platform/transaction'
import { tokenSettings } from './guard'
import type { PasswordVerifier } from './password-attempts'
import { assertAcceptablePassword, dummyHash, type HashOwners, hashPassword, normaliseEmail } from './passwords'
import { rotateRefreshToken, userForToken } from './refresh'
import { publishAuthChange } from './revocation'
import { announceRevoked, revokeSessionRows, revokeUserSessions } from './sessions'
import { issueAccessToken, newRefreshToken } from './tokens'

type UserRow = typeof users.$inferSelect
export type ClientInfo = { userAgent?: string | undefined; ip?: string | undefined }
export type IssuedTokens = TokenPair & { refreshToken: string; sessionId: string }

export const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  displayName: row.displayName,
  role: row.role,
  createdAt: row.createdAt.toISOString(),
})

export async function registerUser(deps: AppDeps, body: RegisterBody, hashOwners: HashOwners = []): Promise<User> {
  const email = normaliseEmail(body.email)
  assertAcceptablePassword('password', body.password, { email })
  // Hash before looking at the email, so an existing address costs the same time as a new one.
  const passwordHash = await hashPassword(deps.config, body.password, hashOwners)
  const [row] = await deps.db.insert(users).values({ email, passwordHash, displayName: body.displayName }).onConflictDoNothing().returning()
  if (!row) throw new ProblemError(409, 'Conflict', 'an account with this email already exists')
  return toUser(row)
}

const invalidCredentials = () => new ProblemError(401, 'Unauthorized', 'email or password is incorrect')

const findByEmail = async (deps: AppDeps, email: string) =>
  (
    await deps.db
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = ${normaliseEmail(email)}`)
  )[0]

/**
 * Same work and the same answer whether or not the email exists: an unknown email verifies a dummy
 * hash of the current cost, and both failures are the same 401 problem. `verify` is the rate-limited
 * check of password-attempts.ts.
 */
export async function login(
  deps: AppDeps,
  email: string,
  password: string,
  client: ClientInfo,
  verify: PasswordVerifier,
): Promise<IssuedTokens> {
  const row = await findByEmail(deps, email)
  const ok = await verify(password, row?.passwordHash ?? (await dummyHash(deps.config)))
  if (!row || !ok) throw invalidCredentials()
  return startSession(deps, row, client)
}

const accessTokenFor = (deps: AppDeps, user: UserRow, sessionId: string) =>
  issueAccessToken(deps.keys, tokenSettings(deps), { userId: user.id, sessionId, role: user.role })

/**
 * Opens a session (a refresh-token family) and issues its first token pair. At most
 * MAX_SESSIONS_PER_USER stay live: the oldest beyond that are revoked in the same transaction (the
 * user row is locked so concurrent logins of one user count correctly).
 */
export async function startSession(deps: AppDeps, user: UserRow, client: ClientInfo): Promise<IssuedTokens> {
  const refresh = newRefreshToken()
  const { sessionId, dropped } = await deps.db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from ${users} where ${users.id} = ${user.id} for update`)
    const [session] = await tx
      .insert(sessions)
      .values({
        userId: user.id,
        userAgent: client.userAgent?.slice(0, 300) ?? null,
        ip: client.ip ?? null,
        createdAt: sql`clock_timestamp()`,
        lastUsedAt: sql`clock_timestamp()`,
        expiresAt: sql`now() + make_interval(days => ${deps.config.REFRESH_ABSOLUTE_DAYS})`,
      })
      .returning({ id: sessions.id })
    if (!session) throw new Error('session insert returned nothing')
    await tx.insert(refreshTokens).values({ sessionId: session.id, tokenHash: refresh.hash })
    const surplus = await tx
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.userId, user.id), isNull(sessions.revokedAt), ne(sessions.id, session.id)))
      .orderBy(sql`${sessions.createdAt} desc`, sql`${sessions.id} desc`)
      .offset(deps.config.MAX_SESSIONS_PER_USER - 1)
    const dropped = await revokeSessionRows(
      tx,
      surplus.map((s) => s.id),
      'session_limit',
    )
    return { sessionId: session.id, dropped }
  })
  await announceRevoked(deps, dropped)
  return {
    accessToken: await accessTokenFor(deps, user, sessionId),
    tokenType: 'Bearer',
    expiresIn: deps.config.ACCESS_TOKEN_TTL_SECONDS,
    refreshToken: refresh.token,
    user: toUser(user),
    sessionId,
  }
}

/** Rotates a refresh token (see refresh.ts) and mints an access token for the same session. */
export async function refreshSession(deps: AppDeps, presented: string): Promise<IssuedTokens> {
  const outcome = await rotateRefreshToken(deps, presented)
  const user = await userForToken(deps, outcome.userId)
  return {
    accessToken: await accessTokenFor(deps, user, outcome.sessionId),
    tokenType: 'Bearer',
    expiresIn: deps.config.ACCESS_TOKEN_TTL_SECONDS,
    refreshToken: outcome.refreshToken,
    user: toUser(user),
    sessionId: outcome.sessionId,
  }
}

/** The session a refresh token belongs to, whatever its state (for logout). */
export async function sessionOfRefreshToken(deps: AppDeps, hash: string): Promise<{ sessionId: string; userId: string } | null> {
  const [row] = await deps.db
    .select({ sessionId: refreshTokens.sessionId, userId: sessions.userId })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, hash))
  return row ?? null
}

/** Ends every session of the user and refuses every access token issued until now. */
export async function logoutAll(deps: AppDeps, userId: string): Promise<void> {
  const [row] = await deps.db
    .update(users)
    .set({ tokensValidAfter: sql`now()` })
    .where(eq(users.id, userId))
    .returning({ cutoff: sql<number>`extract(epoch from ${users.tokensValidAfter})::float8` })
  await revokeUserSessions(deps, userId, 'logout_all')
  if (row) await publishAuthChange(deps, { kind: 'user', id: userId, cutoff: Number(row.cutoff) })
}

const wrongPassword = (field: string) =>
  new ProblemError(403, 'Forbidden', `${field} is incorrect`, { errors: [{ field, message: 'is incorrect' }] })

/** Changes the password after checking the current one; every other session of the user ends. */
export async function changePassword(
  deps: AppDeps,
  current: { id: string; sessionId: string },
  body: { currentPassword: string; newPassword: string },
  verify: PasswordVerifier,
): Promise<void> {
  const [row] = await deps.db.select().from(users).where(eq(users.id, current.id))
  if (!row) throw new ProblemError(401, 'Unauthorized', 'the session has ended')
  if (!(await verify(body.currentPassword, row.passwordHash))) throw wrongPassword('currentPassword')
  assertAcceptablePassword('newPassword', body.newPassword, { email: row.email })
  if (body.newPassword === body.currentPassword) {
    throw new ProblemError(422, 'Unprocessable Content', 'newPassword: must differ from the current password', {
      errors: [{ field: 'newPassword', message: 'must differ from the current password' }],
    })
  }
  const passwordHash = await hashPassword(deps.config, body.newPassword, [`user:${row.id}`])
  await deps.db.update(users).set({ passwordHash, updatedAt: sql`now()` }).where(eq(users.id, row.id))
  await revokeUserSessions(deps, row.id, 'password_change', current.sessionId)
}

/**
 * Hard-deletes the account after re-checking the password: every row that belongs to the user goes
 * by ON DELETE CASCADE (sessions, refresh tokens, submissions, their grades, reviews and events).
 * The user row is locked first, then the cascade locks the submissions: the order every submission
 * writer takes (submissions/locks.ts), so a grade being written meanwhile is waited for, not
 * deadlocked with. A deadlock with a writer that does not follow it is retried.
 */
const DELETED_USER_CUTOFF = 1e12 // seconds: year 33658, later than any token's iat

export async function deleteAccount(deps: AppDeps, userId: string, password: string, verify: PasswordVerifier): Promise<void> {
  const [row] = await deps.db.select().from(users).where(eq(users.id, userId))
  if (!row) throw new ProblemError(401, 'Unauthorized', 'the session has ended')
  if (!(await verify(password, row.passwordHash))) throw wrongPassword('password')
  const ids = await transactionWithRetry(deps.db, async (tx) => {
    const [locked] = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update')
    if (!locked) throw new ProblemError(401, 'Unauthorized', 'the session has ended')
    const sessionIds = (await tx.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, userId))).map((s) => s.id)
    await tx.delete(users).where(eq(users.id, userId))
    return sessionIds
  })
  await announceRevoked(deps, ids)
  // No token of a deleted account is ever valid again, whenever it was issued.
  await publishAuthChange(deps, { kind: 'user', id: userId, cutoff: DELETED_USER_CUTOFF })
}

export async function findUser(deps: AppDeps, id: string): Promise<User | null> {
  const [row] = await deps.db.select().from(users).where(eq(users.id, id))
  return row ? toUser(row) : null
}
