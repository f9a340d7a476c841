import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { preparedBodies, preparedBody } from '../../src/platform/prepared-body'

/** platform/prepared-body.ts: a stand-in Response is swapped for its held body, status and headers. */
describe('prepared bodies', () => {
  const json = JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ i, title: `task ${i} é` })) })
  const ok = preparedBody(new TextEncoder().encode(json), 200, { etag: '"e"', 'content-type': 'application/json' })
  const text = preparedBody('{"a":1}', 201, { 'content-type': 'application/json' })
  const notModified = preparedBody(null, 304, { etag: '"e"' })
  const app = new Elysia()
    .use(preparedBodies)
    .onRequest(({ set }) => {
      set.headers['x-request-id'] = 'r-1'
    })
    .get('/ok', () => ok)
    .get('/text', () => text)
    .get('/304', () => notModified)
    .get('/plain', () => new Response('plain', { headers: { 'content-type': 'text/plain' } }))

  test('the same stand-in sends the whole body every time, with its headers and those of the context', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await app.handle(new Request('http://localhost/ok'))
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(json)
      expect(res.headers.get('etag')).toBe('"e"')
      expect(res.headers.get('content-type')).toBe('application/json')
      expect(res.headers.get('x-request-id')).toBe('r-1')
    }
    const created = await app.handle(new Request('http://localhost/text'))
    expect(created.status).toBe(201)
    expect(await created.json()).toEqual({ a: 1 })
  })

  test('a 304 has no body; other responses pass unchanged', async () => {
    const res = await app.handle(new Request('http://localhost/304'))
    expect(res.status).toBe(304)
    expect(await res.text()).toBe('')
    expect(res.headers.get('etag')).toBe('"e"')
    const plain = await app.handle(new Request('http://localhost/plain'))
    expect(await plain.text()).toBe('plain')
    expect(plain.headers.get('content-type')).toBe('text/plain')
  })
})
