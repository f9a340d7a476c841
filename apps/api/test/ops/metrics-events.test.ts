import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { tasks } from '@vstep/db'
import { queueSnapshotOf } from '../../src/metrics/gauges'
import { requestIdFrom } from '../../src/platform/request-context'
import { createTestContext, type TestContext } from '../support/context'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext()
})
afterAll(() => ctx.close())

describe('metrics helpers (pure)', () => {
  test('the oldest waiting job is measured from its score; none waiting is 0', () => {
    expect(queueSnapshotOf([3, '1000'], 4_500)).toEqual({ depth: 3, oldestWaitingSeconds: 3.5 })
    expect(queueSnapshotOf([2, null], 4_500)).toEqual({ depth: 2, oldestWaitingSeconds: 0 })
    expect(queueSnapshotOf([1, '9000'], 4_500)).toEqual({ depth: 1, oldestWaitingSeconds: 0 })
  })

  test('a request id is taken from the header only when well-formed', () => {
    expect(requestIdFrom('abc-123_x.y:z')).toBe('abc-123_x.y:z')
    for (const bad of [null, '', 'short', 'has space in it', 'x'.repeat(129), 'new\nline-injected', '"quoted"-value']) {
      const id = requestIdFrom(bad)
      expect(id).not.toBe(bad)
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
    }
  })
})

describe('GET /metrics', () => {
  test('counts requests by route template and reports submissions, reviews and queue depth', async () => {
    const { token } = await ctx.signUp()
    const [task] = await ctx.deps.db.select().from(tasks)
    await ctx.call('GET', `/v1/tasks/${task!.id}`)
    const submitted = await ctx.call('POST', '/v1/submissions', {
      token,
      body: { taskId: (await ctx.deps.db.select().from(tasks)).find((t) => t.skill === 'writing')!.id, answerText: 'An answer.' },
    })
    expect(submitted.status).toBe(202)
    const res = await ctx.call('GET', '/metrics')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    expect(text).toContain('http_requests_total{method="GET",route="/v1/tasks/:id",status="200"} 1')
    expect(text).not.toContain(task!.id)
    expect(text).toContain('vstep_submissions{status="pending"} 1')
    expect(text).toContain('vstep_queue_depth 1')
    expect(text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/v1\/submissions\/?"\} 1/)
  })
})

describe('GET /v1/events', () => {
  test("streams the history of all the caller's submissions, and nobody else's", async () => {
    const me = await ctx.signUp()
    const other = await ctx.signUp()
    const writing = (await ctx.deps.db.select().from(tasks)).find((t) => t.skill === 'writing')!
    for (const who of [me, me, other]) {
      const r = await ctx.call('POST', '/v1/submissions', { token: who.token, body: { taskId: writing.id, answerText: 'Some answer.' } })
      expect(r.status).toBe(202)
    }
    const abort = new AbortController()
    const res = await ctx.app.handle(
      new Request('http://localhost/v1/events', { headers: { authorization: `Bearer ${me.token}` }, signal: abort.signal }),
    )
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    while ((text.match(/event: status/g) ?? []).length < 2) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`stream ended early:\n${text}`)
      text += typeof value === 'string' ? value : decoder.decode(value)
    }
    abort.abort()
    await reader.cancel()
    const events = text
      .split('\n')
      .filter((l) => l.startsWith('data: {"id"'))
      .map((l) => JSON.parse(l.slice(6)) as { to: string; actor: string })
    expect(events).toHaveLength(2)
    expect(events.every((e) => e.to === 'pending' && e.actor === `user:${me.userId}`)).toBe(true)
  })

  test('without a token the stream is refused with 401 problem+json', async () => {
    const res = await ctx.call('GET', '/v1/events')
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
  })
})
