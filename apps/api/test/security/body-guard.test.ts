/**
 * Issue 11, finding 1 (and the problem-instance, token-claim and cursor parts of finding 14), against
 * the REAL API process (`bun src/index.ts`) over real sockets, with a private PostgreSQL database and
 * a private redis-server. See docs/security.md.
 *
 * Before the fix an 80 KB `[[[…]]]` body kept the event loop busy for 1.4–11 s (Elysia's
 * ValidationError JSON.stringify-ed it with indentation), /healthz waited meanwhile, and bodies up to
 * 128 MB were read without a token. Timings are taken with performance.now around each request; the
 * bounds (answer < 100 ms, /healthz < 50 ms) are the and leave an order of magnitude of room.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt, SignJWT } from 'jose'
import postgres from 'postgres'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import { loadSigningKeys, type SigningKeys } from '../../src/auth/keys'
import { CLOCK_LEEWAY_SECONDS } from '../../src/auth/tokens'
import { loadConfig } from '../../src/config'
import type { Service } from '../support/processes'
import { startTestRedis, type TestRedis } from '../support/redis-server'
import { seedDatabase, startApiProcess } from '../support/stack'

// The API process runs with the defaults of these.
const DEFAULTS = loadConfig({ DATABASE_URL: 'postgres://defaults@127.0.0.1/defaults' })
const JSON_LIMIT = DEFAULTS.JSON_BODY_LIMIT_BYTES
const OUTER_LIMIT = DEFAULTS.MAX_REQUEST_BODY_BYTES
const TTL = DEFAULTS.ACCESS_TOKEN_TTL_SECONDS

let database: TestDatabase
let redis: TestRedis
let sql: postgres.Sql
let keyDir: string
const services: Service[] = []
let base: string
let port: number
let learner: { token: string; email: string }
let instructor: { token: string }
let taskId: string

const bomb = (bytes: number) => '['.repeat(bytes / 2) + ']'.repeat(bytes / 2)
const reviewPath = () => `/v1/reviews/${crypto.randomUUID()}`
const validReview = { criteria: [{ criterion: 'grammar', score: 6.5 }], comment: 'fine' }

async function call(method: string, path: string, init: { token?: string; body?: string; headers?: Record<string, string> } = {}) {
  const started = performance.now()
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  })
  const text = await res.text()
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, elapsed: performance.now() - started }
}
const json = (r: { text: string }) =>
  JSON.parse(r.text) as { status: number; instance?: string; errors?: { field: string; message: string }[] }

/**
 * One HTTP/1.1 exchange on a raw socket: sends `head`, then `parts` (never finishing a chunked body
 * unless told), and resolves with the response as soon as its headers and declared body arrived. A
 * server that waited for the rest of the body would time out here.
 */
function rawExchange(head: string, parts: string[] = [], timeoutMs = 5_000): Promise<{ status: number; text: string; elapsed: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    let received = ''
    let pending = head + parts.join('')
    let settled = false
    const finish = (socket?: { end: () => void }) => {
      const headerEnd = received.indexOf('\r\n\r\n')
      if (headerEnd < 0 || settled) return
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(received.slice(0, headerEnd))?.[1] ?? 0)
      if (received.length - headerEnd - 4 < length) return
      settled = true
      clearTimeout(timer)
      socket?.end()
      resolve({ status: Number(received.slice(9, 12)), text: received.slice(headerEnd + 4), elapsed: performance.now() - started })
    }
    const timer = setTimeout(() => {
      settled = true
      reject(new Error(`no complete answer within ${timeoutMs} ms; got: ${received.slice(0, 200)}`))
    }, timeoutMs)
    const flush = (socket: { write: (data: string) => number }) => {
      // The socket takes what it can; the rest goes out on drain.
      while (pending.length > 0) {
        const written = socket.write(pending)
        if (written <= 0) return
        pending = pending.slice(written)
      }
    }
    void Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open: flush,
        drain: flush,
        data(socket, data) {
          received += data.toString('latin1')
          finish(socket)
        },
        close() {
          finish()
        },
        error(_socket, error) {
          if (!settled) reject(error)
        },
      },
    }).catch(reject)
  })
}

/** Resident set size of the API process, in MB (Linux). */
const apiRssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${services[0]!.proc.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

async function signUp(email: string) {
  const password = 'correct horse battery staple'
  const reg = await call('POST', '/v1/auth/register', { body: JSON.stringify({ email, password, displayName: 'Security Test' }) })
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.text}`)
  const login = await call('POST', '/v1/auth/login', { body: JSON.stringify({ email, password }) })
  if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`)
  return { token: (JSON.parse(login.text) as { accessToken: string }).accessToken, email }
}

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false }) // the API migrates at start-up
  redis = await startTestRedis()
  keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  const env = { DATABASE_URL: database.url, REDIS_URL: redis.url }
  const limits = [
    'LOGIN',
    'LOGIN_ACCOUNT',
    'LOGIN_IP_FAILURES',
    'LOGIN_IP',
    'REGISTER',
    'REFRESH',
    'SUBMISSIONS',
    'READ_ANONYMOUS',
    'READ_LEARNER',
    'READ_STAFF',
  ]
  base = await startApiProcess(services, {
    keyDir,
    // Rate limits out of the way: this file is about what happens before them.
    env: {
      ...env,
      RECONCILE_INTERVAL_MS: '0',
      SWEEP_INTERVAL_MS: '0',
      ...Object.fromEntries(limits.map((l) => [`RATE_LIMIT_${l}`, '100000'])),
    },
  })
  port = Number(new URL(base).port)
  seedDatabase(env)
  sql = postgres(database.url, { max: 2, onnotice: () => {} })
  learner = await signUp(`learner-${crypto.randomUUID()}@example.test`)
  const staff = await signUp(`instructor-${crypto.randomUUID()}@example.test`)
  await sql`update users set role = 'instructor' where email = ${staff.email}`
  instructor = staff
  const tasks = JSON.parse((await call('GET', '/v1/tasks?skill=writing', { token: learner.token })).text) as { items: { id: string }[] }
  taskId = tasks.items[0]!.id
}, 60_000)

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await sql?.end()
  await redis?.dispose()
  await database?.drop()
  if (keyDir) rmSync(keyDir, { recursive: true, force: true })
})

describe('finding 1: deeply nested bodies', () => {
  test('80 KB of [[[…]]] to login and (without a token) to PUT /v1/reviews/:id: a 4xx in < 100 ms, /healthz < 50 ms meanwhile, no RSS blow-up', async () => {
    // Warm-up: the first request to a route compiles its handler.
    await call('POST', '/v1/auth/login', { body: '{}' })
    await call('PUT', reviewPath(), { body: '{}' })
    await call('GET', '/healthz')
    const rssBefore = apiRssMb()

    const health: number[] = []
    let attacking = true
    const prober = (async () => {
      while (attacking) health.push((await call('GET', '/healthz')).elapsed)
    })()
    const answers: Awaited<ReturnType<typeof call>>[] = []
    for (let round = 0; round < 5; round++) {
      answers.push(
        ...(await Promise.all([
          call('POST', '/v1/auth/login', { body: bomb(80_000) }),
          call('PUT', reviewPath(), { body: bomb(80_000) }),
          call('POST', '/v1/auth/login', { body: `{"email":${bomb(80_000)},"password":"x"}` }),
          call('PUT', reviewPath(), { body: `{"criteria":${bomb(80_000)}}` }),
        ])),
      )
    }
    attacking = false
    await prober

    const login = answers.filter((_, i) => i % 2 === 0)
    const review = answers.filter((_, i) => i % 2 === 1)
    for (const a of login) {
      expect(a.status).toBe(400) // nested deeper than MAX_JSON_DEPTH, refused before JSON.parse
      expect(a.type).toContain('application/problem+json')
      expect(a.text).not.toContain('[[[')
    }
    for (const a of review) expect(a.status).toBe(401) // the token is checked before the body is read
    const slowest = Math.max(...answers.map((a) => a.elapsed))
    console.info(
      `nested-body answers: slowest ${slowest.toFixed(1)} ms; /healthz: ${health.length} probes, slowest ${Math.max(...health).toFixed(1)} ms; RSS ${rssBefore.toFixed(0)} → ${apiRssMb().toFixed(0)} MB`,
    )
    expect(slowest).toBeLessThan(100)
    expect(health.length).toBeGreaterThan(0)
    expect(Math.max(...health)).toBeLessThan(50)
    expect(apiRssMb() - rssBefore).toBeLessThan(64)
  })

  test('a small body nested 33 deep is a 400; an ordinary one still reaches the handler', async () => {
    const deep = await call('POST', '/v1/auth/login', { body: `{"email":"a@b.c","password":${'['.repeat(33)}${']'.repeat(33)}}` })
    expect(deep.status).toBe(400)
    expect(json(deep).status).toBe(400)
    const wrong = await call('POST', '/v1/auth/login', { body: JSON.stringify({ email: learner.email, password: 'not the password' }) })
    expect(wrong.status).toBe(401)
  })
})

describe('finding 1: body size limits', () => {
  test('a Content-Length over JSON_BODY_LIMIT_BYTES is a 413 problem before the body is sent', async () => {
    // The body never comes: a server that read it whole would wait until the timeout.
    const head = `POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${JSON_LIMIT + 1}\r\n\r\n`
    const answer = await rawExchange(head, ['{"email":'])
    expect(answer.status).toBe(413)
    expect(json(answer).status).toBe(413)
  })

  test('a chunked body is cut off with 413 once it passes the limit, without its end ever being sent', async () => {
    const chunk = 'x'.repeat(8 * 1024)
    const parts = Array.from({ length: JSON_LIMIT / chunk.length + 2 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`) // no final 0-chunk
    const head = `POST /v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`
    const answer = await rawExchange(head, parts)
    expect(answer.status).toBe(413)
    expect(json(answer).status).toBe(413)
  })

  test('over MAX_REQUEST_BODY_BYTES, Bun itself refuses (413) before the app runs', async () => {
    const answer = await rawExchange(
      `POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${OUTER_LIMIT + 1}\r\n\r\n`,
    )
    expect(answer.status).toBe(413)
    expect(answer.text).not.toContain('"status":413') // Bun's bare answer, not the gate's problem
  })

  test('the longest essay the contract allows, every character \\u-escaped, is accepted', async () => {
    const body = JSON.stringify({ taskId, answerText: `${'é'.repeat(19_999)}.` }).replaceAll('é', '\\u00e9')
    expect(body.length).toBeGreaterThan(120_000)
    const res = await call('POST', '/v1/submissions', { token: learner.token, body })
    expect(res.status).toBe(202)
  })

  test('a body that is not JSON is a 415 (multipart fields are never JSON.parse-d)', async () => {
    const form = new FormData()
    form.set('criteria', bomb(2_000))
    const multipart = await fetch(`${base}${reviewPath()}`, {
      method: 'PUT',
      body: form,
      headers: { authorization: `Bearer ${instructor.token}` },
    })
    expect(multipart.status).toBe(415)
    const text = await call('POST', '/v1/auth/login', { body: 'email=a', headers: { 'content-type': 'text/plain' } })
    expect(text.status).toBe(415)
  })
})

test('every operation with a request body documents it as application/json only (the gate is its parser)', async () => {
  const doc = JSON.parse((await call('GET', '/openapi/json')).text) as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>
  }
  const bodies = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).flatMap(([method, op]) =>
      op.requestBody ? [[`${method} ${path}`, Object.keys(op.requestBody.content)] as const] : [],
    ),
  )
  expect(bodies.length).toBeGreaterThan(5)
  // The one exception is the recording upload, which has its own streaming multipart parser (submissions/multipart.ts).
  for (const [operation, types] of bodies)
    expect(types).toEqual(operation === 'post /v1/submissions' ? ['application/json', 'multipart/form-data'] : ['application/json'])
})

describe('finding 1: the token before the body', () => {
  test('a guarded route answers 401 to an anonymous caller before a byte of the body arrives', async () => {
    const head = `PUT ${reviewPath()} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000\r\n\r\n`
    const answer = await rawExchange(head)
    expect(answer.status).toBe(401)
  })

  test('an invalid body (or query) without a token is 401, with a learner token to a staff route 403: never 422 schema details', async () => {
    const invalid = JSON.stringify({ criteria: 'SECRET-MARKER', extra: true })
    for (const res of [
      await call('PUT', reviewPath(), { body: invalid }),
      await call('POST', '/v1/submissions', { body: '{"taskId":1}' }),
    ]) {
      expect(res.status).toBe(401)
      expect(json(res).errors).toBeUndefined()
    }
    const learnerTry = await call('PUT', reviewPath(), { token: learner.token, body: invalid })
    expect(learnerTry.status).toBe(403)
    expect(json(learnerTry).errors).toBeUndefined()
    // Nor for an invalid query or path parameter.
    for (const path of ['/v1/submissions?limit=many&cursor=SECRET-MARKER', '/v1/submissions/not-a-uuid', '/v1/reviews?limit=-1']) {
      const res = await call('GET', path)
      expect(res.status).toBe(401)
      expect(json(res).errors).toBeUndefined()
    }
    expect((await call('GET', '/v1/reviews?limit=-1', { token: learner.token })).status).toBe(403)
  })

  test('the authorised caller gets field errors without the values, and a valid request works', async () => {
    const invalid = await call('PUT', reviewPath(), { token: instructor.token, body: JSON.stringify({ criteria: 'SECRET-MARKER' }) })
    expect(invalid.status).toBe(422)
    expect(json(invalid).errors?.map((e) => e.field)).toContain('criteria')
    expect(invalid.text).not.toContain('SECRET-MARKER')
    // A valid body reaches the handler: the review does not exist.
    expect((await call('PUT', reviewPath(), { token: instructor.token, body: JSON.stringify(validReview) })).status).toBe(404)
    const submitted = await call('POST', '/v1/submissions', {
      token: learner.token,
      body: JSON.stringify({ taskId, answerText: 'A short essay.' }),
    })
    expect(submitted.status).toBe(202)
  })
})

describe('finding 14', () => {
  test('problem `instance` is the route pattern, never the raw path or query', async () => {
    const id = crypto.randomUUID()
    const res = await call('GET', `/v1/submissions/${id}?q=<script>alert(1)</script>`, { token: learner.token })
    expect(res.status).toBe(404)
    expect(json(res).instance).toBe('/v1/submissions/:id')
    expect(res.text).not.toContain(id)
    expect(res.text).not.toContain('script')
    const unmatched = await call('GET', '/v1/%3Cscript%3Ealert(1)%3C%2Fscript%3E')
    expect(unmatched.status).toBe(404)
    expect(json(unmatched).instance).toBeUndefined()
    expect(unmatched.text.toLowerCase()).not.toContain('script')
  })

  describe('access tokens', () => {
    let keys: SigningKeys
    let claims: Record<string, unknown>
    beforeAll(async () => {
      // The API process generated its development key in keyDir; sign with the same one.
      keys = await loadSigningKeys(loadConfig({ DATABASE_URL: database.url, DEV_KEY_DIR: keyDir }))
      const { sub, sid, role, iss, aud } = decodeJwt(learner.token)
      claims = { sub, sid, role, iss, aud }
    })
    const tokenWith = (iat: number, exp: number) =>
      new SignJWT({ ...claims, iat, exp, jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.current.kid })
        .sign(keys.current.privateKey)
    const now = () => Math.floor(Date.now() / 1000)
    const me = async (token: string) => (await call('GET', '/v1/me', { token })).status

    test('a token of exactly the configured TTL is accepted (control)', async () => {
      expect(await me(await tokenWith(now(), now() + TTL))).toBe(200)
    })

    test('exp − iat beyond ACCESS_TOKEN_TTL_SECONDS is refused', async () => {
      expect(await me(await tokenWith(now(), now() + TTL + 1))).toBe(401)
      expect(await me(await tokenWith(now(), now() + 365 * 86_400))).toBe(401)
    })

    test('an iat in the future is refused beyond the clock leeway, accepted within it', async () => {
      expect(await me(await tokenWith(now() + CLOCK_LEEWAY_SECONDS + 60, now() + CLOCK_LEEWAY_SECONDS + 600))).toBe(401)
      expect(await me(await tokenWith(now() + 5, now() + 600))).toBe(200)
    })
  })

  test('a forged pagination cursor is a 422 on query.cursor, never a 400 or a database error', async () => {
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const forged = [
      cursor(['0', '------------------------------------']), // passed the old checks, failed the SQL casts
      cursor(['2024-02-30T00:00:00.000000Z', crypto.randomUUID()]),
      cursor(['99999', crypto.randomUUID()]),
      cursor(['0000-01-01T00:00:00.000000Z', crypto.randomUUID()]),
      cursor({ at: 'x' }),
      'not-base64-json',
    ]
    for (const c of forged) {
      const res = await call('GET', `/v1/submissions?cursor=${encodeURIComponent(c)}`, { token: learner.token })
      expect(res.status).toBe(422)
      expect(json(res).errors?.[0]?.field).toBe('query.cursor')
    }
    // A cursor the API issued still pages.
    const first = JSON.parse((await call('GET', '/v1/submissions?limit=1', { token: learner.token })).text) as { nextCursor: string | null }
    expect(first.nextCursor).not.toBeNull()
    expect((await call('GET', `/v1/submissions?limit=1&cursor=${first.nextCursor}`, { token: learner.token })).status).toBe(200)
  })
})
