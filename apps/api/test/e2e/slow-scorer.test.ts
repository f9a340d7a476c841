/**
 * The real worker process (`python -m grader`, arq) keeps grading other jobs while one is being
 * scored. The drill setting GRADER_SCORE_DELAY_MS makes every score block its thread for SLOW_MS, as a
 * CPU-bound model would; the worker scores in a thread (asyncio.to_thread), so with WORKER_MAX_JOBS=2
 * two essays are scored at the same time. Were scoring on the event loop, the second job could not
 * even be marked `processing` until the first had finished.
 *
 * Evidence is the order of the status events the worker writes (submission_events ids come from one
 * sequence, taken as each row is written): each essay reached `processing` before the other was
 * `completed`. Waiting is polling the database with a deadline, never a fixed sleep.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import postgres from 'postgres'
import type { App } from '../../src/app'
import { waitFor } from '../support/processes'
import { type Stack, startStack } from '../support/stack'

const SLOW_MS = 2_000

let stack: Stack
let apiUrl: string
let sql: postgres.Sql

beforeAll(async () => {
  stack = await startStack({ workerEnv: { WORKER_MAX_JOBS: '2', GRADER_SCORE_DELAY_MS: String(SLOW_MS) } })
  apiUrl = stack.apiUrl
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} })
}, 60_000)

afterAll(async () => {
  await sql?.end()
  await stack?.stop()
})

/** Two short answers written for this test (their grades do not matter here, only when they are made). */
const ANSWERS = [
  'Working from home saves time because nobody has to travel to the office every morning. However, colleagues meet less often, so teamwork can suffer. In my opinion, two office days a week are a fair balance.',
  'Many employers now let staff work at home. Workers save money on transport and can concentrate in a quiet room. On the other hand, new employees learn less from experienced colleagues when they rarely meet.',
]

test('with a slow scorer, the worker scores a second job while the first is still being scored', async () => {
  const api = treaty<App>(apiUrl, { parseDate: false })
  const email = `slow-${crypto.randomUUID()}@example.test`
  expect((await api.v1.auth.register.post({ email, password: 'a long enough password', displayName: 'Slow' })).status).toBe(201)
  const login = await api.v1.auth.login.post({ email, password: 'a long enough password' })
  if (!login.data) throw new Error(`login failed: ${JSON.stringify(login.error)}`)
  const auth = { headers: { authorization: `Bearer ${login.data.accessToken}` } }
  const catalogue = await api.v1.tasks.get()
  const task = catalogue.data?.items.find((t) => t.part === 'writing_task_2' && t.gradingMode === 'auto')
  if (!task) throw new Error('no auto-graded writing task 2 in the seeded catalogue')

  const ids: string[] = []
  for (const answerText of ANSWERS) {
    const created = await api.v1.submissions.post({ taskId: task.id, answerText }, auth)
    if (!created.data) throw new Error(`submit failed: ${created.status} ${JSON.stringify(created.error)}`)
    ids.push(created.data.id)
  }
  const [a, b] = ids as [string, string]

  await waitFor(
    'both submissions to complete',
    async () => {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from submissions where id in ${sql(ids)} and status = 'completed'`
      return row?.n === 2 ? true : undefined
    },
    6 * SLOW_MS + 30_000,
    stack.services,
  )

  const events = await sql<{ id: string; submission_id: string; to_status: string }[]>`
    select id::text, submission_id, to_status::text from submission_events where submission_id in ${sql(ids)} order by id`
  const at = (sid: string, status: string) => {
    const event = events.find((e) => e.submission_id === sid && e.to_status === status)
    if (!event) throw new Error(`no ${status} event for ${sid}: ${JSON.stringify(events)}`)
    return BigInt(event.id)
  }
  // Both were being scored at once: each started before the other finished.
  expect({
    bStartedBeforeAFinished: at(b, 'processing') < at(a, 'completed'),
    aStartedBeforeBFinished: at(a, 'processing') < at(b, 'completed'),
  }).toEqual({
    bStartedBeforeAFinished: true,
    aStartedBeforeBFinished: true,
  })
  // And each really was slow: the drill setting reached the scorer.
  const [span] = await sql<{ ms: number }[]>`
    select extract(epoch from (max(created_at) filter (where to_status = 'completed') - min(created_at) filter (where to_status = 'processing'))) * 1000 as ms
      from submission_events where submission_id in ${sql(ids)}`
  expect(Number(span?.ms)).toBeGreaterThanOrEqual(SLOW_MS)
}, 90_000)
