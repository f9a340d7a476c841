import { and, asc, eq, type SQL, sql } from 'drizzle-orm'
import type { ListUsersQuery, UserPage } from '@vstep/contracts'
import type { Database } from '@vstep/db'
import { users } from '@vstep/db'
import { toUser } from '../auth/service'
import { invalidField } from '../platform/problem'

/**
 * The admin's user list: by lower-cased email, a cursor page at a time. Emails are unique in any
 * case (the `users_email_key` index on lower(email)), so the last email of a page is the whole
 * cursor; ORDER BY and the cursor comparison use the same collation, so pages neither skip nor repeat.
 */
const emailKey = sql<string>`lower(${users.email})`

export const encodeUserCursor = (email: string) => Buffer.from(JSON.stringify([email])).toString('base64url')

/** A cursor this API did not issue is a 422 on `query.cursor`, never a database error. */
export function decodeUserCursor(raw: string): string {
  try {
    const decoded = JSON.parse(Buffer.from(raw, 'base64url').toString()) as unknown
    if (Array.isArray(decoded) && decoded.length === 1 && typeof decoded[0] === 'string' && decoded[0].length <= 254) return decoded[0]
  } catch {
    // fall through
  }
  throw invalidField('query.cursor', 'is not a cursor this API issued')
}

/** The page query itself, unexecuted, so a test can EXPLAIN exactly what the route runs. */
export function userListQuery(db: Database, q: ListUsersQuery) {
  const where: SQL[] = []
  // starts_with, not LIKE: a `%` or `_` typed by the admin is a character, not a wildcard.
  if (q.email) where.push(sql`starts_with(${emailKey}, ${q.email})`)
  if (q.role) where.push(eq(users.role, q.role))
  if (q.cursor) where.push(sql`${emailKey} > ${decodeUserCursor(q.cursor)}`)
  return db
    .select({ row: users, key: emailKey })
    .from(users)
    .where(and(...where))
    .orderBy(asc(emailKey))
    .limit(q.limit + 1)
}

export async function listUsers(db: Database, q: ListUsersQuery): Promise<UserPage> {
  const rows = await userListQuery(db, q)
  const page = rows.slice(0, q.limit)
  const last = page.at(-1)
  return {
    items: page.map((r) => toUser(r.row)),
    nextCursor: rows.length > q.limit && last ? encodeUserCursor(last.key) : null,
  }
}
