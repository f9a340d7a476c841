import { eq, sql } from 'drizzle-orm'
import type { RegisterBody, TokenPair, User } from '@vstep/contracts'
import { refreshTokens, sessions, users } from '@vstep/db'
import type { AppDeps } from '../deps'
import { ProblemError } from '../platform/problem'
import { tokenSettings } from './guard'
import { hashPassword, normaliseEmail, verifyPassword } from './passwords'
import { issueAccessToken, newRefreshToken } from './tokens'

type UserRow = typeof users.$inferSelect

export const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  displayName: row.displayName,
  role: row.role,
  createdAt: row.createdAt.toISOString(),
})

const passwordCost = (deps: AppDeps) => ({ memoryKib: deps.config.ARGON2_MEMORY_KIB, timeCost: deps.config.ARGON2_TIME_COST })

/** A hash of a random password, verified for unknown emails so they cost as much as known ones. */
let dummyHash: Promise<string> | null = null
const dummyHashFor = (deps: AppDeps) => (dummyHash ??= hashPassword(crypto.randomUUID(), passwordCost(deps)))

export async function registerUser(deps: AppDeps, body: RegisterBody): Promise<User> {
  const passwordHash = await hashPassword(body.password, passwordCost(deps))
  const [row] = await deps.db
    .insert(users)
    .values({ email: normaliseEmail(body.email), passwordHash, displayName: body.displayName })
    .onConflictDoNothing()
    .returning()
  if (!row) throw new ProblemError(409, 'Conflict', 'an account with this email already exists')
  return toUser(row)
}

const invalidCredentials = () => new ProblemError(401, 'Unauthorized', 'email or password is incorrect')

export async function login(
  deps: AppDeps,
  email: string,
  password: string,
  client: { userAgent?: string | undefined; ip?: string | undefined },
): Promise<TokenPair & { refreshToken: string }> {
  const [row] = await deps.db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${normaliseEmail(email)}`)
  if (!row) {
    await verifyPassword(password, await dummyHashFor(deps))
    throw invalidCredentials()
  }
  if (!(await verifyPassword(password, row.passwordHash))) throw invalidCredentials()
  return startSession(deps, row, client)
}

/** Opens a session (a refresh-token family) and issues its first token pair. */
export async function startSession(
  deps: AppDeps,
  user: UserRow,
  client: { userAgent?: string | undefined; ip?: string | undefined },
): Promise<TokenPair & { refreshToken: string }> {
  const refresh = newRefreshToken()
  const sessionId = await deps.db.transaction(async (tx) => {
    const [session] = await tx
      .insert(sessions)
      .values({
        userId: user.id,
        userAgent: client.userAgent?.slice(0, 300) ?? null,
        ip: client.ip ?? null,
        expiresAt: sql`now() + make_interval(days => ${deps.config.REFRESH_ABSOLUTE_DAYS})`,
      })
      .returning({ id: sessions.id })
    if (!session) throw new Error('session insert returned nothing')
    await tx.insert(refreshTokens).values({ sessionId: session.id, tokenHash: refresh.hash })
    return session.id
  })
  const accessToken = await issueAccessToken(deps.keys, tokenSettings(deps), { userId: user.id, sessionId, role: user.role })
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresIn: deps.config.ACCESS_TOKEN_TTL_SECONDS,
    refreshToken: refresh.token,
    user: toUser(user),
  }
}

export async function findUser(deps: AppDeps, id: string): Promise<User | null> {
  const [row] = await deps.db.select().from(users).where(eq(users.id, id))
  return row ? toUser(row) : null
}
