/**
 * Issue 11, findings 3 and 10: event streams are capped per user (across API instances), end when
 * their session ends or their access token expires, and a malformed Last-Event-ID is a 422 problem
 * like a malformed ?since=, never a stream that dies on a PostgreSQL cast error.
 */
import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test'
import { once } from 'node:events'
import net from 'node:net'
import { decodeJwt } from 'jose'
import { createApp } from '../../src/app'
import { tokenSettings } from '../../src/auth/guard'
import { issueAccessToken } from '../../src/auth/tokens'
import { endReason, openStreams, type StreamFacts } from '../../src/events/open-streams'
import { SubmissionEventHub } from '../../src/events/hub'
import { resumePoint } from '../../src/events/stream'
import { streamSlotsKey } from '../../src/events/stream-slots'
import { RedisHandle } from '../../src/platform/redis'
import { insertSubmission, taskByPart } from '../lifecycle/fixtures'
import { createTestContext, type TestContext } from '../support/context'
import { log } from '../../src/platform/logger'

const CAP = 10
let ctx: TestContext
/** A second API instance: its own hub and stream registry, the same database and Redis. */
let second: TestContext['app']
let secondHub: SubmissionEventHub

beforeAll(async () => {
  ctx = await createTestContext({
    SSE_MAX_STREAMS_PER_USER: String(CAP),
    SSE_SESSION_CHECK_MS: '200',
    SSE_HEARTBEAT_MS: '300',
    RATE_LIMIT_LOGIN: '1000',
    RATE_LIMIT_REFRESH: '1000',
    REFRESH_REUSE_GRACE_SECONDS: '0',
  })
  secondHub = new SubmissionEventHub(ctx.deps.sql)
  await secondHub.start()
  second = createApp({ ...ctx.deps, events: secondHub })
})
afterAll(async () => {
  try {
    // A failed test may leave streams open; close them so teardown cannot hang on them.
    await Promise.all([...opened].map((s) => s.close()))
    // Every stream the tests opened has been released (nothing leaks in either registry).
    await eventually(() => openStreams(ctx.deps).size === 0 && openStreams({ ...ctx.deps, events: secondHub }).size === 0)
  } finally {
    await secondHub.stop()
    await ctx.close()
  }
})

type Frame = { event?: string; id?: string; data?: string }
/** Streams not closed yet, closed by afterAll whatever happened. */
const opened = new Set<{ close(): Promise<void> }>()

/** An SSE stream opened in-process, read frame by frame. */
async function openStream(app: TestContext['app'], path: string, token: string, headers: Record<string, string> = {}) {
  const abort = new AbortController()
  const response = await app.handle(
    new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: abort.signal }),
  )
  const reader = response.ok ? response.body!.getReader() : null
  const decoder = new TextDecoder()
  let buffer = ''
  const next = async (): Promise<Frame | null> => {
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
      const { value, done } = await reader!.read()
      if (done) return null
      buffer += typeof value === 'string' ? value : decoder.decode(value, { stream: true })
    }
  }
  const stream = {
    response,
    next,
    /**
     * Reads until the server ends the stream, or fails at the deadline. Returns every frame read,
     * so a test can check what came last.
     */
    async untilClosed(deadlineMs: number): Promise<Frame[]> {
      const frames: Frame[] = []
      let timer: ReturnType<typeof setTimeout> | undefined
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = setTimeout(() => resolve('deadline'), deadlineMs)
      })
      try {
        for (;;) {
          const frame = await Promise.race([next(), deadline])
          if (frame === 'deadline')
            throw new Error(`stream still open after ${deadlineMs} ms; last frames: ${JSON.stringify(frames.slice(-3))}`)
          if (frame === null) return frames
          frames.push(frame)
        }
      } finally {
        clearTimeout(timer)
      }
    },
    async close() {
      opened.delete(stream)
      abort.abort()
      await reader?.cancel().catch(() => {})
    },
  }
  opened.add(stream)
  return stream
}
type OpenStream = Awaited<ReturnType<typeof openStream>>

/** Opens a stream and waits for its `ready` event (it is registered and counted by then). */
async function openReady(app: TestContext['app'], path: string, token: string): Promise<OpenStream> {
  const stream = await openStream(app, path, token)
  expect(stream.response.status).toBe(200)
  expect((await stream.next())?.event).toBe('ready')
  return stream
}

/** Polls `condition` until it holds or the deadline passes. */
async function eventually(condition: () => Promise<boolean> | boolean, deadlineMs = 5_000): Promise<void> {
  const until = Date.now() + deadlineMs
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met before the deadline')
    await Bun.sleep(25)
  }
}

const lastEnd = (frames: Frame[]) => {
  const last = frames.at(-1)
  return last?.event === 'end' ? (JSON.parse(last.data!) as { reason: string }).reason : null
}

/** A valid access token for `token`'s session with its own `iat`/`exp`, signed with the app's key. */
async function tokenWithLifetime(token: string, issuedAt: number, ttlSeconds: number): Promise<string> {
  const claims = decodeJwt(token) as { sub: string; sid: string; role: 'learner' }
  return issueAccessToken(
    ctx.deps.keys,
    { ...tokenSettings(ctx.deps), ttlSeconds },
    { userId: claims.sub, sessionId: claims.sid, role: claims.role },
    issuedAt,
  )
}

async function withErrorLogSpy<T>(fn: () => Promise<T>): Promise<{ result: T; logged: unknown[][] }> {
  const error = spyOn(console, 'error').mockImplementation(() => {})
  const warn = spyOn(console, 'warn').mockImplementation(() => {})
  const logError = spyOn(log, 'error').mockImplementation(() => {})
  const logWarn = spyOn(log, 'warn').mockImplementation(() => {})
  try {
    const result = await fn()
    return { result, logged: [...error.mock.calls, ...warn.mock.calls, ...logError.mock.calls, ...logWarn.mock.calls] }
  } finally {
    for (const spy of [error, warn, logError, logWarn]) spy.mockRestore()
  }
}

describe('per-user cap on open streams', () => {
  test(`the ${CAP + 1}th stream of a user is refused with 429 on every instance; closing one frees a slot everywhere`, async () => {
    const user = await ctx.signUp()
    const streams: OpenStream[] = []
    try {
      for (let i = 0; i < CAP; i++) streams.push(await openReady(i % 2 ? second : ctx.app, '/v1/events', user.token))
      expect(await ctx.deps.redis.run((c) => c.zcard(streamSlotsKey(user.userId)))).toBe(CAP)

      for (const app of [ctx.app, second]) {
        const refused = await openStream(app, '/v1/events', user.token)
        expect(refused.response.status).toBe(429)
        expect(refused.response.headers.get('content-type')).toBe('application/problem+json')
        expect(refused.response.headers.get('retry-after')).toBe('30')
        expect(await refused.response.json()).toMatchObject({ status: 429, title: 'Too Many Requests' })
      }

      // Another user is not affected.
      const other = await ctx.signUp()
      const theirs = await openReady(ctx.app, '/v1/events', other.token)
      await theirs.close()

      // The client closes one stream on the first instance; the second instance can then admit one.
      await streams.shift()!.close()
      let admitted: OpenStream | null = null
      await eventually(async () => {
        const attempt = await openStream(second, '/v1/events', user.token)
        if (attempt.response.status === 200) admitted = attempt
        else expect(attempt.response.status).toBe(429)
        return admitted !== null
      })
      streams.push(admitted!)
    } finally {
      await Promise.all(streams.map((s) => s.close()))
    }
    await eventually(async () => (await ctx.deps.redis.run((c) => c.zcard(streamSlotsKey(user.userId)))) === 0)
  })

  test('submission streams count towards the same cap', async () => {
    const user = await ctx.signUp()
    const taskId = (await taskByPart(ctx, 'writing_task_2')).id
    const submissionId = (await insertSubmission(ctx, { userId: user.userId, taskId })).id
    const streams: OpenStream[] = []
    try {
      for (let i = 0; i < CAP; i++) streams.push(await openReady(ctx.app, `/v1/submissions/${submissionId}/events`, user.token))
      const refused = await openStream(ctx.app, '/v1/events', user.token)
      expect(refused.response.status).toBe(429)
    } finally {
      await Promise.all(streams.map((s) => s.close()))
    }
  })

  test('with Redis unreachable, an instance still holds the cap for its own streams', async () => {
    const hub = new SubmissionEventHub(ctx.deps.sql)
    await hub.start()
    const isolated = createApp({ ...ctx.deps, events: hub, redis: new RedisHandle('redis://127.0.0.1:1', 200) })
    const user = await ctx.signUp()
    const streams: OpenStream[] = []
    const quiet = spyOn(console, 'warn').mockImplementation(() => {})
    try {
      for (let i = 0; i < CAP; i++) streams.push(await openReady(isolated, '/v1/events', user.token))
      const refused = await openStream(isolated, '/v1/events', user.token)
      expect(refused.response.status).toBe(429)
    } finally {
      await Promise.all(streams.map((s) => s.close()))
      await eventually(() => openStreams({ ...ctx.deps, events: hub }).size === 0)
      quiet.mockRestore()
      await hub.stop()
    }
  })

  test('slots left behind by a crashed instance expire with their lease and do not lock the user out', async () => {
    const user = await ctx.signUp()
    const key = streamSlotsKey(user.userId)
    // Ten members whose leases ran out long ago, as a dead instance would leave them.
    await ctx.deps.redis.run((c) => c.zadd(key, ...Array.from({ length: CAP }, (_, i) => [1, `dead-${i}`]).flat()))
    const stream = await openReady(ctx.app, '/v1/events', user.token)
    expect(await ctx.deps.redis.run((c) => c.zcard(key))).toBe(1)
    await stream.close()
  })
})

describe('streams end when their session ends', () => {
  test('logout-all closes the open streams of the user on every instance within seconds', async () => {
    const user = await ctx.signUp()
    const here = await openReady(ctx.app, '/v1/events', user.token)
    const there = await openReady(second, '/v1/events', user.token)
    const res = await ctx.call('POST', '/v1/auth/logout-all', { token: user.token })
    expect(res.status).toBe(204)
    const [a, b] = await Promise.all([here.untilClosed(5_000), there.untilClosed(5_000)])
    expect(lastEnd(a)).toBe('session_ended')
    expect(lastEnd(b)).toBe('session_ended')
    // And a new stream with the old token is refused by the guard.
    expect((await openStream(ctx.app, '/v1/events', user.token)).response.status).toBe(401)
  })

  test('deleting the account closes its open stream', async () => {
    const user = await ctx.signUp()
    const stream = await openReady(ctx.app, '/v1/events', user.token)
    const res = await ctx.call('DELETE', '/v1/me', { token: user.token, body: { password: user.password } })
    expect(res.status).toBe(204)
    expect(lastEnd(await stream.untilClosed(5_000))).toBe('session_ended')
  })

  const login = async (email: string, password: string) => {
    const res = await ctx.call('POST', '/v1/auth/login', { body: { email, password } })
    expect(res.status).toBe(200)
    return (await res.json()) as { accessToken: string; refreshToken: string }
  }

  const revocations: [string, (user: Awaited<ReturnType<TestContext['signUp']>>, streamToken: string) => Promise<void>][] = [
    [
      'logout (by access token)',
      async (_user, token) => {
        expect((await ctx.call('POST', '/v1/auth/logout', { token })).status).toBe(204)
      },
    ],
    [
      'revoking the session from another one',
      async (user, token) => {
        const sid = (decodeJwt(token) as { sid: string }).sid
        expect((await ctx.call('DELETE', `/v1/auth/sessions/${sid}`, { token: user.token })).status).toBe(204)
      },
    ],
    [
      'a password change from another session',
      async (user) => {
        const body = { currentPassword: user.password, newPassword: 'a brand new passphrase 2' }
        expect((await ctx.call('POST', '/v1/auth/password', { token: user.token, body })).status).toBe(204)
      },
    ],
  ]
  for (const [name, revoke] of revocations) {
    test(`${name} closes the streams of that session`, async () => {
      const user = await ctx.signUp()
      const session = await login(user.email, user.password)
      const stream = await openReady(ctx.app, '/v1/events', session.accessToken)
      const bystander = await openReady(ctx.app, '/v1/events', user.token)
      await revoke(user, session.accessToken)
      expect(lastEnd(await stream.untilClosed(5_000))).toBe('session_ended')
      // The user's other session (the one that acted) keeps its stream.
      expect((await bystander.next())?.event).toBe('ping')
      await bystander.close()
    })
  }

  test('refresh-token reuse closes the streams of the compromised session', async () => {
    const user = await ctx.signUp()
    const session = await login(user.email, user.password)
    const stream = await openReady(ctx.app, '/v1/events', session.accessToken)
    const first = await ctx.call('POST', '/v1/auth/refresh', { body: { refreshToken: session.refreshToken } })
    expect(first.status).toBe(200)
    const replay = await ctx.call('POST', '/v1/auth/refresh', { body: { refreshToken: session.refreshToken } })
    expect(replay.status).toBe(401)
    expect(lastEnd(await stream.untilClosed(5_000))).toBe('session_ended')
  })
})

describe('a client that stopped reading', () => {
  test('is disconnected once its session ends, although it never pulls the end event', async () => {
    const user = await ctx.signUp()
    const taskId = (await taskByPart(ctx, 'writing_task_2')).id
    const submissionId = (await insertSubmission(ctx, { userId: user.userId, taskId })).id
    const key = streamSlotsKey(user.userId)
    const slots = () => ctx.deps.redis.run((c) => c.zcard(key))
    const listening = createApp(ctx.deps).listen({ port: 0, hostname: '127.0.0.1' })
    const socket = net.connect(listening.server!.port!, '127.0.0.1')
    try {
      await once(socket, 'connect')
      socket.write(`GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${user.token}\r\n\r\n`)
      socket.pause() // reads nothing from now on
      await eventually(async () => (await slots()) === 1)

      // About 5 MB of events: more than the socket buffers hold, so Bun stops pulling the stream
      // and its generator waits at a yield. Wait until the hub has relayed the last of them.
      const seen = new Promise<void>((resolve) => {
        let n = 0
        const stop = ctx.deps.events.subscribe(`user:${user.userId}`, () => {
          if (++n < 5_000) return
          stop()
          resolve()
        })
      })
      await ctx.deps.sql`insert into submission_events (submission_id, user_id, from_status, to_status, actor, reason)
        select ${submissionId}, ${user.userId}, 'pending', 'processing', 'worker', repeat('x', 1000) from generate_series(1, 5000)`
      await seen

      expect((await ctx.call('POST', '/v1/auth/logout-all', { token: user.token })).status).toBe(204)
      // Its slot (held until the request is over) is freed once Bun drops the idle connection.
      await eventually(async () => (await slots()) === 0, 20_000)
    } finally {
      socket.destroy()
      await listening.stop(true)
    }
  }, 30_000)
})

describe('streams honour the access token expiry', () => {
  test('a stream ends when its token expires, and reconnecting with a fresh token and Last-Event-ID loses nothing', async () => {
    const user = await ctx.signUp()
    const taskId = (await taskByPart(ctx, 'writing_task_2')).id
    const submissionId = (await insertSubmission(ctx, { userId: user.userId, taskId })).id
    const shortLived = await tokenWithLifetime(user.token, Math.floor(Date.now() / 1000), 3)
    const exp = (decodeJwt(shortLived) as { exp: number }).exp

    const stream = await openReady(ctx.app, '/v1/events', shortLived)
    const history = await stream.next()
    expect(history?.event).toBe('status')
    const frames = await stream.untilClosed(8_000)
    expect(lastEnd(frames)).toBe('token_expired')
    expect(Date.now() / 1000).toBeGreaterThanOrEqual(exp)
    // Heartbeats flowed until the expiry: the stream was alive, not refused.
    expect(frames.some((f) => f.event === 'ping')).toBe(true)

    // While the client is away, the submission changes.
    await ctx.deps.sql.begin(async (tx) => {
      await tx`select set_config('vstep.actor', 'worker', true), set_config('vstep.reason', 'test', true)`
      await tx`update submissions set status = 'processing' where id = ${submissionId}`
    })
    const resumed = await openReady(ctx.app, '/v1/events', user.token)
    await resumed.close()
    const again = await openStream(ctx.app, '/v1/events', user.token, { 'last-event-id': history!.id! })
    expect(again.response.status).toBe(200)
    expect((await again.next())?.event).toBe('ready')
    const missed = await again.next()
    expect(missed?.event).toBe('status')
    expect(JSON.parse(missed!.data!)).toMatchObject({ submissionId, from: 'pending', to: 'processing' })
    await again.close()
  }, 15_000)

  test('a token already past its exp (inside the verifier leeway) cannot open a stream: 401, refresh first', async () => {
    const user = await ctx.signUp()
    const now = Math.floor(Date.now() / 1000)
    const expired = await tokenWithLifetime(user.token, now - 10, 5)
    const res = await openStream(ctx.app, '/v1/events', expired)
    expect(res.response.status).toBe(401)
    expect(res.response.headers.get('content-type')).toBe('application/problem+json')
  })
})

describe('Last-Event-ID is validated like ?since=', () => {
  const bad = ['99999999999999999999999', '9007199254740992', '-1', 'abc', '1.5', '1e400']
  test.each(bad)('Last-Event-ID %p → 422 problem, nothing logged', async (value) => {
    const user = await ctx.signUp()
    const { result, logged } = await withErrorLogSpy(async () => {
      const stream = await openStream(ctx.app, '/v1/events', user.token, { 'last-event-id': value })
      return { status: stream.response.status, type: stream.response.headers.get('content-type'), body: await stream.response.json() }
    })
    expect(result.status).toBe(422)
    expect(result.type).toBe('application/problem+json')
    expect(result.body).toMatchObject({ status: 422, errors: [{ field: 'headers.last-event-id' }] })
    expect(JSON.stringify(result.body)).not.toContain(value)
    expect(logged).toEqual([])
  })

  test.each(['99999999999999999999999', '9007199254740992', '-1', 'abc', '1.5'])(
    '?since=%p → 422 problem, nothing logged',
    async (value) => {
      const user = await ctx.signUp()
      const { result, logged } = await withErrorLogSpy(async () => {
        const stream = await openStream(ctx.app, `/v1/events?since=${value}`, user.token)
        return { status: stream.response.status, type: stream.response.headers.get('content-type') }
      })
      expect(result).toEqual({ status: 422, type: 'application/problem+json' })
      expect(logged).toEqual([])
    },
  )

  test('the submission stream applies the same rule, and a valid id (including the largest) still streams', async () => {
    const user = await ctx.signUp()
    const taskId = (await taskByPart(ctx, 'writing_task_2')).id
    const submissionId = (await insertSubmission(ctx, { userId: user.userId, taskId })).id
    const path = `/v1/submissions/${submissionId}/events`
    expect((await openStream(ctx.app, path, user.token, { 'last-event-id': '99999999999999999999999' })).response.status).toBe(422)
    for (const value of ['0', String(Number.MAX_SAFE_INTEGER), '']) {
      const stream = await openStream(ctx.app, path, user.token, { 'last-event-id': value })
      expect(stream.response.status).toBe(200)
      expect((await stream.next())?.event).toBe('ready')
      await stream.close()
    }
  })
})

describe('rules (pure)', () => {
  const facts: StreamFacts = { userId: 'u', sessionId: 's', issuedAt: 1_000, expiresAt: 1_900 }
  const live = { userId: 'u', live: true, tokensValidAfter: 0 }

  test('endReason: expiry first, then the session as the guard would judge it', () => {
    expect(endReason(facts, live, 1_899.9)).toBeNull()
    expect(endReason(facts, live, 1_900)).toBe('token_expired')
    expect(endReason(facts, undefined, 1_900)).toBe('token_expired') // database down: expiry still applies
    expect(endReason(facts, undefined, 1_500)).toBeNull()
    expect(endReason(facts, null, 1_500)).toBe('session_ended') // session (or user) gone
    expect(endReason(facts, { ...live, live: false }, 1_500)).toBe('session_ended')
    expect(endReason(facts, { ...live, userId: 'other' }, 1_500)).toBe('session_ended')
    // tokens_valid_after: same one-second rounding as the guard (<= iat + 1 is still valid).
    expect(endReason(facts, { ...live, tokensValidAfter: 1_001 }, 1_500)).toBeNull()
    expect(endReason(facts, { ...live, tokensValidAfter: 1_001.5 }, 1_500)).toBe('session_ended')
  })

  test('resumePoint: the larger of header and query; empty header is absent; malformed header throws 422', () => {
    expect(resumePoint(undefined, undefined)).toBe(0)
    expect(resumePoint('7', 3)).toBe(7)
    expect(resumePoint('2', 3)).toBe(3)
    expect(resumePoint('', 5)).toBe(5)
    expect(resumePoint(' 8 ', undefined)).toBe(8)
    for (const bad of ['x', '-3', '2.5', '1e30', String(2 ** 53)]) {
      expect(() => resumePoint(bad, undefined)).toThrow(expect.objectContaining({ status: 422 }))
    }
  })
})
