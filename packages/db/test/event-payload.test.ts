/**
 * The event payload is written twice: by the SQL trigger `submission_events_notify` (the NOTIFY the
 * API relays live) and by `eventFromRow` in packages/contracts (the replay from the table). The zod
 * schema `SubmissionEventNotification` is the source: every notification must pass it (strict, so
 * an extra or renamed key fails) and equal `eventFromRow` of the same row read through Drizzle, as
 * the API reads it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ACTORS, EVENT_REASONS, EVENTS_CHANNEL, eventFromRow, SubmissionEventNotification, userActor } from '@vstep/contracts'
import { asc, eq } from 'drizzle-orm'
import { createDatabase } from '../src/client'
import { submissionEvents } from '../src/schema'
import { createTestDatabase, type TestDatabase } from '../src/testing'

let database: TestDatabase
let handle: ReturnType<typeof createDatabase>
const payloads: string[] = []
let unlisten: () => Promise<void>

beforeAll(async () => {
  database = await createTestDatabase()
  handle = createDatabase(database.url, { max: 3 })
  ;({ unlisten } = await handle.sql.listen(EVENTS_CHANNEL, (payload) => payloads.push(payload)))
})
afterAll(async () => {
  await unlisten?.()
  await handle?.close()
  await database?.drop()
})

/** Polls until `count` notifications arrived, or fails after the deadline. */
async function notifications(count: number, deadlineMs = 5_000): Promise<unknown[]> {
  const until = Date.now() + deadlineMs
  while (payloads.length < count) {
    if (Date.now() > until) throw new Error(`only ${payloads.length} of ${count} notifications arrived`)
    await Bun.sleep(10)
  }
  return payloads.slice(0, count).map((p) => JSON.parse(p) as unknown)
}

describe('submission event payload: SQL trigger and TypeScript agree', () => {
  test('every notification matches the contract and the replayed row', async () => {
    const { sql, db } = handle
    const [user] = await sql<
      { id: string }[]
    >`insert into users (email, password_hash, display_name) values ('e@example.test', 'x', 'E') returning id`
    const [task] = await sql<{ id: string }[]>`insert into tasks (slug, skill, part, title, prompt, min_words, time_limit_minutes)
      values ('t', 'writing', 'writing_task_2', 'T', 'P', 250, 40) returning id`
    // 1. created without any actor setting: the trigger's default
    const [submission] = await sql<{ id: string }[]>`insert into submissions (user_id, task_id, skill, grading_mode, answer_text)
      values (${user!.id}, ${task!.id}, 'writing', 'auto', 'text') returning id`
    const id = submission!.id
    // 2. the worker claims it; 3. the sweeper fails it; 4. the learner retries
    const steps: [string, string, string][] = [
      [ACTORS.worker, EVENT_REASONS.gradingStarted, 'processing'],
      [ACTORS.sweeper, EVENT_REASONS.timeout, 'failed'],
      [userActor(user!.id), EVENT_REASONS.retry, 'pending'],
    ]
    for (const [actor, reason, status] of steps) {
      await sql.begin(async (tx) => {
        await tx`select set_config('vstep.actor', ${actor}, true), set_config('vstep.reason', ${reason}, true)`
        await tx`update submissions set status = ${status}::submission_status where id = ${id}`
      })
    }

    const received = await notifications(4)
    const rows = await db.select().from(submissionEvents).where(eq(submissionEvents.submissionId, id)).orderBy(asc(submissionEvents.id))
    expect(rows).toHaveLength(4)
    for (const [i, raw] of received.entries()) {
      const parsed = SubmissionEventNotification.safeParse(raw)
      if (!parsed.success) throw new Error(`notification ${JSON.stringify(raw)} breaks the contract: ${parsed.error.message}`)
      expect(parsed.data).toEqual(eventFromRow(rows[i]!))
    }
    const events = received.map((r) => SubmissionEventNotification.parse(r))
    expect(events.map((e) => [e.from, e.to, e.actor, e.reason])).toEqual([
      [null, 'pending', ACTORS.system, null],
      ['pending', 'processing', 'worker', 'grading started'],
      ['processing', 'failed', 'system:sweeper', 'timeout'],
      ['failed', 'pending', `user:${user!.id}`, 'retry'],
    ])
  })

  test('the contract refuses a payload with a key the trigger does not send', () => {
    const event = {
      id: 1,
      submissionId: crypto.randomUUID(),
      userId: crypto.randomUUID(),
      from: null,
      to: 'pending',
      actor: 'system',
      reason: null,
      at: '2026-01-01T00:00:00.000Z',
    }
    expect(SubmissionEventNotification.safeParse(event).success).toBe(true)
    expect(SubmissionEventNotification.safeParse({ ...event, extra: 1 }).success).toBe(false)
    expect(SubmissionEventNotification.safeParse({ ...event, at: '2026-01-01 00:00:00' }).success).toBe(false)
  })
})
