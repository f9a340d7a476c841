/**
 * The live path: NOTIFY from committed transactions, the hub, and the SSE streams (replay with
 * Last-Event-ID / ?since=, heartbeats, ending, isolation, fan-out across API instances, and recovery
 * after the LISTEN connection is killed).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import postgres from 'postgres'
import { createApp } from '../../src/app'
import { SubmissionEventHub } from '../../src/events/hub'
import { createTestContext, type TestContext } from '../support/context'
import { insertSubmission, taskByPart } from '../lifecycle/fixtures'

let ctx: TestContext
let raw: postgres.Sql
let learner: { token: string; userId: string }
let taskId: string

beforeAll(async () => {
  ctx = await createTestContext({ SSE_HEARTBEAT_MS: '300' })
  raw = postgres(ctx.database.url, { max: 2, onnotice: () => {} })
  learner = await ctx.signUp()
  taskId = (await taskByPart(ctx, 'writing_task_2')).id
})
afterAll(async () => {
  await raw.end()
  await ctx.close()
})

type SseEvent = { event?: string; id?: string; data?: string }

/** Reads SSE frames from a response body on demand. */
function sseReader(res: Response) {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  return {
    async next(): Promise<SseEvent | null> {
      for (;;) {
        const end = buffer.indexOf('\n\n')
        if (end >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event: SseEvent = {}
          for (const line of frame.split('\n')) {
            const colon = line.indexOf(':')
            const key = line.slice(0, colon) as keyof SseEvent
            if (key === 'event' || key === 'id' || key === 'data') event[key] = line.slice(colon + 1).trimStart()
          }
          return event
        }
        const { value, done } = await reader.read()
        if (done) return null
        buffer += typeof value === 'string' ? value : decoder.decode(value, { stream: true })
      }
    },
    /** The next `status` event, skipping ready/ping. */
    async nextStatus(): Promise<{ id: number; to: string; from: string | null; actor: string; reason: string | null } | null> {
      for (;;) {
        const e = await this.next()
        if (!e) return null
        if (e.event === 'status') return JSON.parse(e.data!)
      }
    },
    cancel: () => reader.cancel(),
  }
}

const open = (app: TestContext['app'], path: string, token: string, headers: Record<string, string> = {}) => {
  const abort = new AbortController()
  const response = app.handle(
    new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: abort.signal }),
  )
  return { response, abort }
}

/** Changes a submission's status the way the worker does: its own connection, its own transaction. */
async function transition(id: string, to: string, reason = 'test') {
  await raw.begin(async (tx) => {
    await tx`select set_config('vstep.actor', 'worker', true), set_config('vstep.reason', ${reason}, true)`
    await tx`update submissions set status = ${to}::submission_status where id = ${id}`
  })
}

const newSubmission = async () => (await insertSubmission(ctx, { userId: learner.userId, taskId })).id as string

describe('submission event streams', () => {
  test('replay then live: history first, then a committed change as it happens; ends after completed', async () => {
    const id = await newSubmission()
    const { response, abort } = open(ctx.app, `/v1/submissions/${id}/events`, learner.token)
    const stream = sseReader(await response)
    expect((await stream.next())?.event).toBe('ready')
    expect((await stream.nextStatus())?.to).toBe('pending')
    await transition(id, 'processing')
    const processing = await stream.nextStatus()
    expect(processing).toMatchObject({ from: 'pending', to: 'processing', actor: 'worker', reason: 'test' })
    await transition(id, 'completed')
    expect((await stream.nextStatus())?.to).toBe('completed')
    expect(await stream.next()).toBeNull() // the stream ends after completed
    abort.abort()
  })

  test('a rolled-back change is never announced', async () => {
    const id = await newSubmission()
    const { response, abort } = open(ctx.app, `/v1/submissions/${id}/events`, learner.token)
    const stream = sseReader(await response)
    expect((await stream.nextStatus())?.to).toBe('pending')
    await raw
      .begin(async (tx) => {
        await tx`update submissions set status = 'processing' where id = ${id}`
        throw new Error('roll back')
      })
      .catch(() => {})
    await transition(id, 'failed', 'committed')
    expect(await stream.nextStatus()).toMatchObject({ from: 'pending', to: 'failed', reason: 'committed' })
    abort.abort()
    await stream.cancel()
  })

  test('Last-Event-ID and ?since= resume after the given event, without repeating it', async () => {
    const id = await newSubmission()
    await transition(id, 'processing')
    await transition(id, 'completed')
    const events = await raw<{ id: number }[]>`select id::int from submission_events where submission_id = ${id} order by id`
    expect(events).toHaveLength(3)
    for (const headers of [{ 'last-event-id': String(events[0]!.id) }, {}] as Record<string, string>[]) {
      const path = `/v1/submissions/${id}/events${'last-event-id' in headers ? '' : `?since=${events[0]!.id}`}`
      const stream = sseReader(await open(ctx.app, path, learner.token, headers).response)
      const got = [await stream.nextStatus(), await stream.nextStatus()]
      expect(got.map((e) => [e?.id, e?.to])).toEqual([
        [events[1]!.id, 'processing'],
        [events[2]!.id, 'completed'],
      ])
      expect(await stream.next()).toBeNull()
    }
  })

  test('an idle stream gets heartbeats', async () => {
    const id = await newSubmission()
    const { response, abort } = open(ctx.app, `/v1/submissions/${id}/events`, learner.token)
    const stream = sseReader(await response)
    expect((await stream.nextStatus())?.to).toBe('pending')
    const next = await stream.next()
    expect(next?.event).toBe('ping')
    abort.abort()
    await stream.cancel()
  })

  test("another learner's stream is 404 and sees nothing", async () => {
    const id = await newSubmission()
    const other = await ctx.signUp()
    const res = await open(ctx.app, `/v1/submissions/${id}/events`, other.token).response
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
  })

  test('a second API instance (its own LISTEN connection) relays changes committed elsewhere', async () => {
    const hub = new SubmissionEventHub(ctx.deps.sql)
    await hub.start()
    const second = createApp({ ...ctx.deps, events: hub })
    try {
      const id = await newSubmission()
      const { response, abort } = open(second, `/v1/submissions/${id}/events`, learner.token)
      const stream = sseReader(await response)
      expect((await stream.nextStatus())?.to).toBe('pending')
      await transition(id, 'processing')
      expect((await stream.nextStatus())?.to).toBe('processing')
      abort.abort()
      await stream.cancel()
    } finally {
      await hub.stop()
    }
  })

  test('after the LISTEN connection is killed, the hub reconnects and open streams catch up from the table', async () => {
    const id = await newSubmission()
    const { response, abort } = open(ctx.app, `/v1/submissions/${id}/events`, learner.token)
    const stream = sseReader(await response)
    expect((await stream.nextStatus())?.to).toBe('pending')
    const resynced = new Promise<void>((resolve) => {
      const stop = ctx.deps.events.subscribe(`submission:${id}`, (e) => {
        if (e !== 'resync') return
        stop()
        resolve()
      })
    })
    const killed = await raw`select pg_terminate_backend(pid) as ok from pg_stat_activity
      where datname = current_database() and query ilike 'listen%'`
    expect(killed.length).toBeGreaterThan(0)
    // Committed right after the kill, usually before the hub has listened again: then no NOTIFY
    // reaches it and only the resync (re-reading the table) can deliver it.
    await transition(id, 'processing')
    await resynced
    expect((await stream.nextStatus())?.to).toBe('processing')
    await transition(id, 'completed')
    expect((await stream.nextStatus())?.to).toBe('completed')
    abort.abort()
  }, 20_000)
})
