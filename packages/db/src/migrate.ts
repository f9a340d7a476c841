import { join } from 'node:path'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'

export const MIGRATIONS_FOLDER = join(import.meta.dir, '..', 'drizzle')
/** Any constant works; it only has to be the same for every migrator of this database. */
const MIGRATION_LOCK_ID = 727_272_001

/**
 * Applies pending migrations. Drizzle's migrator has no lock of its own, so two processes starting
 * at once on an empty database would race on CREATE TYPE; a session advisory lock serialises them,
 * and the second finds nothing left to do.
 */
export async function runMigrations(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`
    try {
      await migrate(drizzle(sql), { migrationsFolder: MIGRATIONS_FOLDER })
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}
