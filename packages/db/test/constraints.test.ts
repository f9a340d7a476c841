import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import postgres from 'postgres'
import { createTestDatabase, type TestDatabase } from '../src/testing'

let database: TestDatabase
let sql: postgres.Sql
let submissionId: string

beforeAll(async () => {
  database = await createTestDatabase()
  sql = postgres(database.url, { max: 2, onnotice: () => {} })
  const [user] = await sql`insert into users (email, password_hash, display_name) values ('c@example.test', 'x', 'C') returning id`
  const [task] = await sql`insert into tasks (slug, skill, part, title, prompt, min_words, time_limit_minutes)
    values ('t', 'writing', 'writing_task_2', 'T', 'P', 250, 40) returning id`
  const [submission] = await sql`insert into submissions (user_id, task_id, skill, grading_mode, answer_text)
    values (${user!.id}, ${task!.id}, 'writing', 'auto', 'text') returning id`
  submissionId = submission!.id
})
afterAll(async () => {
  await sql.end()
  await database.drop()
})

const sqlState = async (run: () => Promise<unknown>) => {
  try {
    await run()
    return 'ok'
  } catch (error) {
    return (error as { code?: string }).code ?? 'unknown'
  }
}

describe('schema constraints', () => {
  test('scores are exact decimals on the 0.5 grid between 0 and 10', async () => {
    const insertGrade = (overall: string) =>
      sql`insert into grades (submission_id, source, overall, provider, model, rubric_version, confidence)
          values (${submissionId}, 'ai', ${overall}, 'p', 'm', 'r', 0.5)`
    expect(await sqlState(() => insertGrade('6.3'))).toBe('23514')
    expect(await sqlState(() => insertGrade('10.5'))).not.toBe('ok')
    expect(await sqlState(() => insertGrade('-0.5'))).toBe('23514')
    expect(await sqlState(() => insertGrade('6.5'))).toBe('ok')
    const [row] = await sql`select overall::text from grades where submission_id = ${submissionId}`
    expect(row!.overall).toBe('6.5')
  })

  test('one grade per source: a second AI grade for the same submission is refused', async () => {
    const again = () =>
      sql`insert into grades (submission_id, source, overall, provider, model, rubric_version, confidence)
          values (${submissionId}, 'ai', 7, 'p', 'm', 'r', 0.5)`
    expect(await sqlState(again)).toBe('23505')
  })

  test('a task part must match its skill', async () => {
    const bad = () => sql`insert into tasks (slug, skill, part, title, prompt, time_limit_minutes)
      values ('bad', 'speaking', 'writing_task_1', 'T', 'P', 3)`
    expect(await sqlState(bad)).toBe('23514')
  })

  test('deleting a user removes every row that belongs to them (ON DELETE CASCADE)', async () => {
    await sql`delete from users where email = 'c@example.test'`
    const [left] = await sql`select
      (select count(*) from submissions)::int + (select count(*) from grades)::int +
      (select count(*) from submission_events)::int as n`
    expect(left!.n).toBe(0)
  })
})
