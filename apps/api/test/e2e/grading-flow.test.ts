/**
 * The whole path of one essay, with every part real: the API and the arq worker run as separate
 * processes against a private PostgreSQL database and a private Redis; the client is Eden, typed
 * from the API's own routes, and watches the status over SSE.
 */
import { expect, test } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import postgres from 'postgres'
import { roundToHalf } from '@vstep/contracts'
import type { App } from '../../src/app'
import { useStack } from '../support/stack'

const stack = useStack()

const ESSAY = `Many companies now let their staff work from home for part of the week. In my opinion, this change brings more benefits than problems, although it must be managed carefully.

Firstly, working from home saves time and money. Employees who do not have to travel for an hour every morning can start work earlier and feel less tired. Furthermore, companies can rent smaller offices, which reduces their costs considerably.

On the other hand, some people argue that teamwork suffers when colleagues rarely meet. For example, new employees may find it difficult to learn from experienced staff. However, regular meetings and good online tools can solve most of these problems.

In conclusion, I believe that flexible working is a positive development, as long as companies keep some days for face-to-face cooperation and support their employees properly.`

test('an essay goes from the API through Redis and the worker into PostgreSQL, and back over SSE', async () => {
  const api = treaty<App>(stack().apiUrl, { parseDate: false })
  const email = `e2e-${crypto.randomUUID()}@example.test`
  const registered = await api.v1.auth.register.post({ email, password: 'a long enough password', displayName: 'E2E' })
  expect(registered.status).toBe(201)
  const login = await api.v1.auth.login.post({ email, password: 'a long enough password' })
  if (!login.data) throw new Error(`login failed: ${JSON.stringify(login.error)}`)
  const auth = { headers: { authorization: `Bearer ${login.data.accessToken}` } }

  const catalogue = await api.v1.tasks.get()
  const task = catalogue.data?.items.find((t) => t.part === 'writing_task_2')
  if (!task) throw new Error('no writing task 2 in the seeded catalogue')

  const created = await api.v1.submissions.post({ taskId: task.id, answerText: ESSAY }, auth)
  if (!created.data) throw new Error(`submit failed: ${JSON.stringify(created.error)}`)
  expect(created.status).toBe(202)
  const id = created.data.id

  const abort = new AbortController()
  const stream = await api.v1.submissions({ id }).events.get({ ...auth, fetch: { signal: abort.signal } })
  if (!stream.data) throw new Error(`stream failed: ${JSON.stringify(stream.error)}`)
  const seen: string[] = []
  const deadline = setTimeout(() => abort.abort(), 30_000)
  try {
    for await (const message of stream.data) {
      if (message.event !== 'status') continue
      seen.push(message.data.to)
      if (message.data.to === 'completed' || message.data.to === 'failed') break
    }
  } finally {
    clearTimeout(deadline)
    abort.abort()
  }
  expect(seen).toEqual(['pending', 'processing', 'completed'])

  const sql = postgres(stack().databaseUrl, { max: 1, onnotice: () => {} })
  try {
    const grades = await sql`select id, overall::float8 as overall, source::text from grades where submission_id = ${id}`
    expect(grades).toHaveLength(1)
    expect(grades[0]!.source).toBe('ai')
    const criteria = await sql`select criterion::text, score::float8 as score from grade_criteria where grade_id = ${grades[0]!.id}`
    expect(criteria.map((c) => c.criterion).sort()).toEqual(['grammar', 'organisation', 'task_fulfilment', 'vocabulary'])
    const mean = criteria.reduce((sum, c) => sum + Number(c.score), 0) / criteria.length
    expect(Number(grades[0]!.overall)).toBe(roundToHalf(mean))
  } finally {
    await sql.end()
  }

  const detail = await api.v1.submissions({ id }).get(auth)
  expect(detail.data?.status).toBe('completed')
  expect(detail.data?.grades[0]?.criteria).toHaveLength(4)
}, 60_000)
