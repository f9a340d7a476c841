/**
 * Event ids in commit order, per user (migration 0008). Two transactions change two submissions of
 * one learner: A draws its event id first, B draws later and tries to commit first. Before the fix B
 * committed first, its (higher) id reached the learner's `/v1/events` stream before A's, and A's
 * lower id, committed later, was skipped as "already seen", live and on a Last-Event-ID resume.
 * Now B waits for A's lock, so whatever a reader can see of that user, it sees in id order.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import postgres from 'postgres'
import { createTestContext, type TestContext } from '../support/context'
import { insertSubmission, taskByPart } from '../lifecycle/fixtures'

let ctx: TestContext
let connA: postgres.Sql
let connB: postgres.Sql
let observer: postgres.Sql

beforeAll(async () => {
  ctx = await createTestContext({ SSE_HEARTBEAT_MS: '200' })
  // Three connections of their own: two writers (one transaction each) and one that watches them.
  connA = postgres(ctx.database.url, { max: 1, onnotice: () => {} })
  connB = postgres(ctx.database.url, { max: 1, onnotice: () => {} })
  observer = postgres(ctx.database.url, { max: 1, onnotice: () => {} })
})
afterAll(async () => {
  await Promise.all([connA.end(), connB.end(), observer.end()])
  await ctx.close()
})

type Frame = { event?: string; id?: string; data?: string }

function frames(res: Response) {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  return {
    async next(): Promise<Frame | null> {
      for (;;) {
        const end = buffer.indexOf('\n\n')
        if (end >= 0) {
          const frame: Frame = {}
          for (const line of buffer.slice(0, end).split('\n')) {
            const colon = line.indexOf(':')
            const key = line.slice(0, colon)
            if (key === 'event' || key === 'id' || key === 'data') frame[key] = line.slice(colon + 1).trimStart()
          }
          buffer = buffer.slice(end + 2)
          return frame
        }
        const { value, done } = await reader.read()
        if (done) return null
        // In-process (app.handle), Elysia's SSE body yields strings; over a socket, bytes.
        buffer += typeof value === 'string' ? value : decoder.decode(value, { stream: true })
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  }
}

type Status = { id: number; submissionId: string; to: string }

const openEvents = (token: string, lastEventId?: string) =>
  ctx.app.handle(
    new Request('http://localhost/v1/events', {
      headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    }),
  )

/** Status events until `stop` says so; the stream ending first is a failure. */
async function statusesUntil(stream: ReturnType<typeof frames>, stop: (s: Status) => boolean): Promise<Status[]> {
  const seen: Status[] = []
  for (;;) {
    const frame = await stream.next()
    if (!frame) throw new Error(`the stream ended after ${JSON.stringify(seen)}`)
    if (frame.event !== 'status') continue
    const status = JSON.parse(frame.data!) as Status
    seen.push(status)
    if (stop(status)) return seen
  }
}

/** Status events of the replay: everything up to the first heartbeat (sent only once the stream is idle). */
async function statusesUntilIdle(stream: ReturnType<typeof frames>): Promise<Status[]> {
  const seen: Status[] = []
  for (;;) {
    const frame = await stream.next()
    if (!frame) throw new Error('the stream ended during its replay')
    if (frame.event === 'ping') return seen
    if (frame.event === 'status') seen.push(JSON.parse(frame.data!) as Status)
  }
}

async function until(what: string, condition: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10) // polling for a condition with a deadline
  }
}

test('two transactions of one learner: A draws first, B tries to commit first; the stream and a Last-Event-ID resume deliver both', async () => {
  const learner = await ctx.signUp()
  const taskId = (await taskByPart(ctx, 'writing_task_2')).id
  const [s1, s2] = [
    await insertSubmission(ctx, { userId: learner.userId, taskId }),
    await insertSubmission(ctx, { userId: learner.userId, taskId }),
  ]

  // A live stream, open before anything happens; its replay is the two `pending` events.
  const live = frames(await openEvents(learner.token))
  const history = await statusesUntilIdle(live)
  expect(history.map((e) => [e.submissionId, e.to])).toEqual([
    [s1.id, 'pending'],
    [s2.id, 'pending'],
  ])

  // A: s1 → processing; its event id is drawn now, and A stays open.
  await connA`begin`
  await connA`select set_config('vstep.actor', 'worker', true)`
  await connA`update submissions set status = 'processing' where id = ${s1.id}`

  // B: s2 → processing, committed as soon as it can be.
  const pidB = (await connB<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid
  let bCommitted = false
  const b = (async () => {
    await connB`begin`
    await connB`select set_config('vstep.actor', 'worker', true)`
    await connB`update submissions set status = 'processing' where id = ${s2.id}`
    await connB`commit`
    bCommitted = true
  })()
  // Either B committed ahead of A (what used to happen), or B waits for a lock A holds (the fix).
  const bWaitsForA = async () => (await observer`select 1 from pg_locks where pid = ${pidB} and not granted`).length > 0
  await until('B to commit or to wait for A', async () => bCommitted || (await bWaitsForA()))

  // A client connecting right now reads everything it can see, then leaves, keeping the last id.
  const early = frames(await openEvents(learner.token))
  const earlySeen = await statusesUntilIdle(early)
  await early.cancel()
  const resumeFrom = String(earlySeen.at(-1)!.id)

  await connA`commit`
  await b
  // A third change, committed after both: once it arrives, everything before it has arrived.
  await ctx.deps.sql.begin(async (tx) => {
    await tx`select set_config('vstep.actor', 'worker', true)`
    await tx`update submissions set status = 'completed' where id = ${s1.id}`
  })
  const isMarker = (e: Status) => e.submissionId === s1.id && e.to === 'completed'

  const events = await observer<{ id: string; submission_id: string; to_status: string }[]>`
    select id::text, submission_id, to_status::text from submission_events
     where submission_id in (${s1.id}, ${s2.id}) and to_status = 'processing' order by id`
  // A's event has the lower id, so a reader that sees B's and moves its cursor past it must have seen A's.
  expect(events.map((e) => e.submission_id)).toEqual([s1.id, s2.id])

  const processing = (seen: Status[]) =>
    seen
      .filter((e) => e.to === 'processing')
      .map((e) => e.submissionId)
      .sort()
  const both = [s1.id, s2.id].sort()

  // The stream that was open all along delivered both, in id order.
  const liveSeen = await statusesUntil(live, isMarker)
  await live.cancel()
  expect(processing(liveSeen)).toEqual(both)
  expect(liveSeen.map((e) => e.id)).toEqual([...liveSeen.map((e) => e.id)].sort((x, y) => x - y))

  // The client that left resumes with Last-Event-ID and gets what it had not seen, A's event included.
  const resumed = frames(await openEvents(learner.token, resumeFrom))
  const resumedSeen = await statusesUntil(resumed, isMarker)
  await resumed.cancel()
  expect(processing([...earlySeen, ...resumedSeen])).toEqual(both)
  expect(resumedSeen.every((e) => e.id > Number(resumeFrom))).toBe(true)
}, 30_000)
