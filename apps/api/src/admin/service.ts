import { and, count, eq, sql } from 'drizzle-orm'
import type { User, UserRole } from '@vstep/contracts'
import type { Database } from '@vstep/db'
import { users } from '@vstep/db'
import type { Config } from '../config'
import { assertAcceptablePassword, hashPassword, normaliseEmail } from '../auth/passwords'
import { toUser } from '../auth/service'
import { ProblemError } from '../platform/problem'

/**
 * Changes a user's role. The route then publishes the change (auth/revocation.ts), so the guard of every instance re-reads the role and the change
 * applies to the user's next request without new tokens. The last admin cannot be demoted (the
 * admin rows are locked, so two concurrent demotions cannot both pass).
 */
export async function setRole(db: Database, targetId: string, role: UserRole): Promise<User | null> {
  return db.transaction(async (tx) => {
    const [target] = await tx.select().from(users).where(eq(users.id, targetId)).for('update')
    if (!target) return null
    if (target.role === 'admin' && role !== 'admin') {
      const admins = await tx.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).for('update')
      if (admins.length <= 1) throw new ProblemError(409, 'Conflict', 'the last admin cannot be demoted; promote another admin first')
    }
    const [updated] = await tx.update(users).set({ role, updatedAt: sql`now()` }).where(eq(users.id, targetId)).returning()
    return updated ? toUser(updated) : null
  })
}

export type BootstrapOutcome = 'admin-exists' | 'promoted' | 'no-such-user'

/**
 * BOOTSTRAP_ADMIN_EMAIL: promotes that (already registered) account to admin, but only while the
 * system has no admin at all, so the variable cannot be used later to take over a running system.
 * Accounts are never created from the environment; use scripts/create-admin.ts for that.
 */
export async function bootstrapAdmin(db: Database, email: string): Promise<BootstrapOutcome> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('vstep:bootstrap-admin'))`)
    const [admins] = await tx.select({ n: count() }).from(users).where(eq(users.role, 'admin'))
    if ((admins?.n ?? 0) > 0) return 'admin-exists'
    const promoted = await tx
      .update(users)
      .set({ role: 'admin', updatedAt: sql`now()` })
      .where(and(sql`lower(${users.email}) = ${normaliseEmail(email)}`))
      .returning({ id: users.id })
    return promoted.length > 0 ? 'promoted' : 'no-such-user'
  })
}

/** CLI: makes `email` an admin, creating the account with `password` when it does not exist yet. */
export async function createOrPromoteAdmin(
  db: Database,
  config: Config,
  input: { email: string; password?: string | undefined; displayName?: string | undefined },
): Promise<{ user: User; created: boolean }> {
  const email = normaliseEmail(input.email)
  const [existing] = await db.select().from(users).where(sql`lower(${users.email}) = ${email}`)
  if (existing) {
    const user = await setRole(db, existing.id, 'admin')
    return { user: user!, created: false }
  }
  if (!input.password) throw new Error(`no account ${email} exists; give a password to create it`)
  assertAcceptablePassword('password', input.password, { email })
  const passwordHash = await hashPassword(config, input.password)
  const [row] = await db
    .insert(users)
    .values({ email, passwordHash, displayName: input.displayName ?? 'Administrator', role: 'admin' })
    .returning()
  return { user: toUser(row!), created: true }
}
