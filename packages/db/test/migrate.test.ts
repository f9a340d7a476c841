import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import postgres from 'postgres'
import { createDatabase } from '../src/client'
import { seedTasks } from '../src/seed'
import { SEED_TASKS } from '../src/seed-tasks'
import { createTestDatabase, type TestDatabase } from '../src/testing'

const databases: TestDatabase[] = []
afterAll(async () => {
  for (const d of databases) await d.drop()
})

const cli = join(import.meta.dir, '../src/cli.ts')
const migrateInProcess = (url: string) =>
  Bun.spawn(['bun', cli, 'migrate'], { env: { ...process.env, DATABASE_URL: url }, stdout: 'pipe', stderr: 'pipe' })

describe('migrator', () => {
  test('two migrator processes started together on an empty database both succeed', async () => {
    const database = await createTestDatabase({ migrate: false })
    databases.push(database)
    const [a, b] = [migrateInProcess(database.url), migrateInProcess(database.url)]
    const [codeA, codeB] = await Promise.all([a.exited, b.exited])
    const errors = `${await new Response(a.stderr).text()}${await new Response(b.stderr).text()}`
    expect(errors).toBe('')
    expect([codeA, codeB]).toEqual([0, 0])
    const sql = postgres(database.url, { max: 1, onnotice: () => {} })
    const applied = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`
    const tables = await sql`select count(*)::int as n from information_schema.tables where table_schema = 'public'`
    await sql.end()
    const journal = (await Bun.file(join(import.meta.dir, '../drizzle/meta/_journal.json')).json()) as { entries: unknown[] }
    expect(applied[0]!.n).toBe(journal.entries.length)
    expect(tables[0]!.n).toBeGreaterThanOrEqual(9)
  }, 60_000)

  test('migrating an up-to-date database again changes nothing', async () => {
    const database = await createTestDatabase()
    databases.push(database)
    const again = migrateInProcess(database.url)
    expect(await again.exited).toBe(0)
  }, 60_000)
})

describe('seed', () => {
  test('writes at least 12 tasks covering every part, and running it twice changes nothing', async () => {
    const database = await createTestDatabase()
    databases.push(database)
    const { db, sql, close } = createDatabase(database.url, { max: 2 })
    try {
      await seedTasks(db)
      await seedTasks(db)
      const rows = await sql<{ part: string; n: number }[]>`select part::text, count(*)::int as n from tasks group by part order by part`
      const total = rows.reduce((sum, r) => sum + r.n, 0)
      expect(total).toBe(SEED_TASKS.length)
      expect(total).toBeGreaterThanOrEqual(12)
      expect(rows.map((r) => r.part)).toEqual(['speaking_part_1', 'speaking_part_2', 'speaking_part_3', 'writing_task_1', 'writing_task_2'])
    } finally {
      await close()
    }
  })
})
