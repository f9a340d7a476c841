import { drizzle } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { schema } from './schema'

export type Sql = postgres.Sql
export type Database = ReturnType<typeof createDatabase>['db']

/** A connection pool and its Drizzle handle. Nothing connects at import time. */
export function createDatabase(url: string, options: { max?: number } = {}) {
  const sql = postgres(url, { max: options.max ?? 10, onnotice: () => {} })
  const db = drizzle(sql, { schema, casing: 'snake_case' })
  return { sql, db, close: () => sql.end({ timeout: 5 }) }
}
