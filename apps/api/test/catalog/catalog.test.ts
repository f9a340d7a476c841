import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createTestContext, type TestContext } from '../support/context'
import { createDatabase } from '@vstep/db'
import { createApp } from '../../src/app'
import { CATALOG_CHANNEL } from '../../src/catalog/cache'
import { SubmissionEventHub } from '../../src/events/hub'
import { RedisHandle } from '../../src/platform/redis'
import { insertSubmission, json, taskByPart, userWithRole } from '../lifecycle/fixtures'
import { waitFor } from '../support/processes'

let ctx: TestContext
let admin: { token: string; userId: string }
let learner: { token: string; userId: string }

beforeAll(async () => {
  ctx = await createTestContext()
  admin = await userWithRole(ctx, 'admin')
  learner = await ctx.signUp()
})
afterAll(() => ctx.close())

type Task = { id: string; title: string; gradingMode: string }
const newTask = (title: string) => ({
  skill: 'writing',
  part: 'writing_task_1',
  title,
  prompt: 'Write a letter.',
  minWords: 120,
  timeLimitMinutes: 20,
})

describe('catalogue cache', () => {
  test('second read comes from memory; If-None-Match answers 304', async () => {
    await waitFor(
      'the catalogue invalidation channel',
      async () => (ctx.deps.redis.subscriber.isLive(CATALOG_CHANNEL) ? true : undefined),
      5_000,
    )
    const first = await ctx.call('GET', '/v1/tasks')
    expect(first.status).toBe(200)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^".+"$/)
    const second = await ctx.call('GET', '/v1/tasks')
    expect(second.headers.get('x-cache')).toBe('memory')
    expect(second.headers.get('etag')).toBe(etag)
    const notModified = await ctx.call('GET', '/v1/tasks', { headers: { 'if-none-match': etag } })
    expect(notModified.status).toBe(304)
    expect(await notModified.text()).toBe('')
  })

  test('after each write the next read shows it (list and item)', async () => {
    const task = (await taskByPart(ctx, 'writing_task_2')).id
    await ctx.call('GET', `/v1/tasks/${task}`)
    const before = await ctx.call('GET', '/v1/tasks')
    const etag = before.headers.get('etag')!

    const patched = await ctx.call('PATCH', `/v1/tasks/${task}`, {
      token: admin.token,
      body: { title: 'Renamed task', gradingMode: 'hybrid' },
    })
    expect(patched.status).toBe(200)
    const item = await json<Task>(await ctx.call('GET', `/v1/tasks/${task}`))
    expect(item).toMatchObject({ title: 'Renamed task', gradingMode: 'hybrid' })
    const list = await ctx.call('GET', '/v1/tasks', { headers: { 'if-none-match': etag } })
    expect(list.status).toBe(200)
    expect((await json<{ items: Task[] }>(list)).items.find((t) => t.id === task)?.title).toBe('Renamed task')

    const created = await ctx.call('POST', '/v1/tasks', { token: admin.token, body: newTask('Brand new task') })
    expect(created.status).toBe(201)
    const { id } = await json<Task>(created)
    expect((await json<{ items: Task[] }>(await ctx.call('GET', '/v1/tasks'))).items.map((t) => t.id)).toContain(id)
    expect((await ctx.call('DELETE', `/v1/tasks/${id}`, { token: admin.token })).status).toBe(204)
    expect((await json<{ items: Task[] }>(await ctx.call('GET', '/v1/tasks'))).items.map((t) => t.id)).not.toContain(id)
    expect((await ctx.call('GET', `/v1/tasks/${id}`)).status).toBe(404)
  })

  test('with Redis stopped, reads still succeed and writes still land; after restart no stale read', async () => {
    const task = (await taskByPart(ctx, 'writing_task_1')).id
    await ctx.call('GET', `/v1/tasks/${task}`) // cached
    await ctx.redisServer.stop()
    try {
      const list = await ctx.call('GET', '/v1/tasks')
      expect(list.status).toBe(200)
      expect(list.headers.get('x-cache')).toBe('db')
      expect((await json<{ items: Task[] }>(list)).items.length).toBeGreaterThan(0)
      expect((await ctx.call('GET', `/v1/tasks/${task}`)).status).toBe(200)
      expect(
        (await ctx.call('PATCH', `/v1/tasks/${task}`, { token: admin.token, body: { title: 'Changed while Redis was down' } })).status,
      ).toBe(200)
    } finally {
      await ctx.redisServer.start()
    }
    const item = await json<Task>(await ctx.call('GET', `/v1/tasks/${task}`))
    expect(item.title).toBe('Changed while Redis was down')
  })
})

describe('catalogue across instances', () => {
  test('a write on instance 1 reaches the memory of instance 2 within 1 s', async () => {
    // Instance 2 shares PostgreSQL and Redis, nothing else (own pool, Redis handle, channel and memory).
    const { db, sql, close } = createDatabase(ctx.database.url, { max: 2 })
    const redis = new RedisHandle(ctx.redisServer.url)
    const events = new SubmissionEventHub(sql)
    await events.start()
    const second = createApp({ ...ctx.deps, db, sql, redis, events })
    const read = async (path: string) => second.handle(new Request(`http://localhost${path}`))
    try {
      await waitFor('instance 2 subscribed', async () => (redis.subscriber.isLive(CATALOG_CHANNEL) ? true : undefined), 5_000)
      const task = (await taskByPart(ctx, 'writing_task_2')).id
      await read(`/v1/tasks/${task}`)
      const held = await read(`/v1/tasks/${task}`)
      expect(held.headers.get('x-cache')).toBe('memory')
      const etag = held.headers.get('etag')!
      expect((await ctx.call('PATCH', `/v1/tasks/${task}`, { token: admin.token, body: { title: 'Renamed on instance 1' } })).status).toBe(
        200,
      )
      const started = performance.now()
      await waitFor(
        'instance 2 serving the new title',
        async () => ((await json<Task>(await read(`/v1/tasks/${task}`))).title === 'Renamed on instance 1' ? true : undefined),
        1_000,
      )
      expect(performance.now() - started).toBeLessThan(1_000)
      const fresh = await read(`/v1/tasks/${task}`)
      expect(fresh.headers.get('etag')).not.toBe(etag)
    } finally {
      await events.stop()
      redis.close()
      await close()
    }
  })
})

describe('catalogue writes', () => {
  test('admin only; part must match skill; a task with submissions cannot be deleted', async () => {
    expect((await ctx.call('POST', '/v1/tasks', { token: learner.token, body: newTask('x') })).status).toBe(403)
    expect((await ctx.call('POST', '/v1/tasks', { body: newTask('x') })).status).toBe(401)
    const mismatch = await ctx.call('POST', '/v1/tasks', { token: admin.token, body: { ...newTask('x'), part: 'speaking_part_1' } })
    expect(mismatch.status).toBe(422)
    expect((await ctx.call('PATCH', `/v1/tasks/${crypto.randomUUID()}`, { token: admin.token, body: { title: 'y' } })).status).toBe(404)
    const { id } = await json<Task>(await ctx.call('POST', '/v1/tasks', { token: admin.token, body: newTask('Used task') }))
    await insertSubmission(ctx, { userId: learner.userId, taskId: id, status: 'completed' })
    expect((await ctx.call('DELETE', `/v1/tasks/${id}`, { token: admin.token })).status).toBe(409)
  })

  test('the grading mode set by an admin applies to new submissions (human → review_pending, no job)', async () => {
    const { id } = await json<Task>(
      await ctx.call('POST', '/v1/tasks', { token: admin.token, body: { ...newTask('Human graded'), gradingMode: 'human' } }),
    )
    const res = await ctx.call('POST', '/v1/submissions', {
      token: learner.token,
      body: { taskId: id, answerText: 'Please grade me by hand.' },
    })
    expect(res.status).toBe(202)
    expect(await json(res)).toMatchObject({ status: 'review_pending', gradingMode: 'human', reviewPriority: 'medium', deadlineAt: null })
  })
})
