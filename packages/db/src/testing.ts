import postgres from 'postgres'
import { runMigrations } from './migrate'

/** The server tests create their databases on; its `postgres` database is used only to create/drop. */
export const TEST_PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export type TestDatabase = { url: string; name: string; drop: () => Promise<void> }

/** A fresh, uniquely named database for one test file, migrated unless asked not to. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `vstep_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = postgres(TEST_PG_ADMIN_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  await admin.end()
  const base = new URL(TEST_PG_ADMIN_URL)
  base.pathname = `/${name}`
  const url = base.toString()
  if (options.migrate !== false) await runMigrations(url)
  return {
    url,
    name,
    drop: async () => {
      const a = postgres(TEST_PG_ADMIN_URL, { max: 1, onnotice: () => {} })
      await a.unsafe(`drop database if exists "${name}" with (force)`)
      await a.end()
    },
  }
}
