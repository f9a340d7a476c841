/**
 * The two attacks docs/security.md leaves to Bun itself, tried against the REAL API process
 * (`bun src/index.ts`) over raw sockets, with a private PostgreSQL database and redis-server:
 *
 * - slowloris: sockets that trickle a request head one byte at a time must neither slow /healthz
 *   down nor live forever. Bun (1.4) closes a connection whose request head is still incomplete
 *   about 10 s after it opened, whatever it keeps sending (its idle-timer sweep runs every 4 s, so
 *   10–14 s); Elysia's `idleTimeout: 30` applies only between complete requests.
 * - request smuggling: Content-Length together with Transfer-Encoding, or two Content-Lengths, is a
 *   400 and a closed connection; the bytes after the first request are never read as a second one.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import type { Service } from '../support/processes'
import { startTestRedis, type TestRedis } from '../support/redis-server'
import { startApiProcess } from '../support/stack'

let database: TestDatabase
let redis: TestRedis
let keyDir: string
const services: Service[] = []
let base: string
let port: number

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false }) // the API migrates at start-up
  redis = await startTestRedis()
  keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  base = await startApiProcess(services, {
    keyDir,
    env: { DATABASE_URL: database.url, REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '0', SWEEP_INTERVAL_MS: '0' },
  })
  port = Number(new URL(base).port)
}, 60_000)

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await redis?.dispose()
  await database?.drop()
  if (keyDir) rmSync(keyDir, { recursive: true, force: true })
})

/** Sends `payload` on a fresh socket and resolves with everything received once the server closes it. */
function exchangeUntilClose(payload: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = ''
    const timer = setTimeout(
      () => reject(new Error(`connection still open after ${timeoutMs} ms; got: ${received.slice(0, 300)}`)),
      timeoutMs,
    )
    void Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open: (socket) => void socket.write(payload),
        data: (_socket, data) => {
          received += data.toString('latin1')
        },
        close: () => {
          clearTimeout(timer)
          resolve(received)
        },
        error: (_socket, error) => reject(error),
      },
    }).catch(reject)
  })
}

// Anywhere, not at a line start: a pipelined answer follows the previous body with no newline between.
const statusLines = (raw: string) => raw.match(/HTTP\/1\.1 \d{3}/g) ?? []

type SlowSocket = { closed: Promise<{ afterMs: number; bytesSent: number; received: string }> }

/** A slowloris socket: the start of a request head, then one more header byte every `everyMs`. */
function trickle(everyMs: number): SlowSocket {
  const head = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(10_000)}`
  const opened = performance.now()
  let sent = 0
  let received = ''
  let ticker: ReturnType<typeof setInterval> | undefined
  const closed = new Promise<{ afterMs: number; bytesSent: number; received: string }>((resolve, reject) => {
    void Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open(socket) {
          sent = socket.write(head.slice(0, 20))
          ticker = setInterval(() => {
            if (sent < head.length) sent += socket.write(head[sent] ?? '')
          }, everyMs)
        },
        data: (_socket, data) => {
          received += data.toString('latin1')
        },
        close() {
          clearInterval(ticker)
          resolve({ afterMs: performance.now() - opened, bytesSent: sent, received })
        },
        error: (_socket, error) => reject(error),
      },
    }).catch(reject)
  })
  return { closed }
}

describe('slowloris', () => {
  test('10 sockets trickling a request head: /healthz answers in < 250 ms throughout, and Bun closes every one of them within 20 s while it is still sending', async () => {
    const warm = await fetch(`${base}/healthz`)
    expect(warm.status).toBe(200)
    await warm.text()

    const slow = Array.from({ length: 10 }, () => trickle(200))
    let allClosed = false
    const results = Promise.all(slow.map((s) => s.closed)).finally(() => {
      allClosed = true
    })
    // /healthz, sampled for as long as the attack lasts (the pace of sampling is not a synchronisation).
    const health: { status: number; ms: number }[] = []
    while (!allClosed) {
      const started = performance.now()
      const res = await fetch(`${base}/healthz`)
      await res.text()
      health.push({ status: res.status, ms: performance.now() - started })
      await Promise.race([results, Bun.sleep(100)])
    }
    const closed = await results

    expect(health.length).toBeGreaterThan(20)
    expect(health.every((h) => h.status === 200)).toBe(true)
    expect(Math.max(...health.map((h) => h.ms))).toBeLessThan(250)
    for (const c of closed) {
      expect(c.afterMs).toBeLessThan(20_000)
      // Still trickling when closed (well past the 20 bytes it opened with): sending does not keep it alive.
      expect(c.bytesSent).toBeGreaterThan(40)
      // No request was ever answered on it.
      expect(statusLines(c.received).filter((s) => s.endsWith('200'))).toEqual([])
    }
  }, 30_000)
})

describe('request smuggling', () => {
  // A complete second request hidden in the first one's body: a 404 if it were ever processed.
  const smuggled = 'GET /smuggled-request HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
  const login = (headers: string, body: string) =>
    `POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${headers}\r\n${body}`

  test('control: two pipelined requests on one connection get two answers, the second a 404', async () => {
    const raw = await exchangeUntilClose(
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n${smuggled.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')}`,
    )
    expect(statusLines(raw)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 404'])
  })

  const chunked = `0\r\n\r\n${smuggled}`
  const padded = `x${smuggled}`
  const attacks: [string, string][] = [
    [
      'Content-Length then Transfer-Encoding: chunked',
      login(`Content-Length: ${chunked.length}\r\nTransfer-Encoding: chunked\r\n`, chunked),
    ],
    ['Transfer-Encoding: chunked then a short Content-Length', login('Transfer-Encoding: chunked\r\nContent-Length: 4\r\n', chunked)],
    ['two different Content-Lengths, short first', login(`Content-Length: 1\r\nContent-Length: ${padded.length}\r\n`, padded)],
    ['two different Content-Lengths, long first', login(`Content-Length: ${padded.length}\r\nContent-Length: 1\r\n`, padded)],
    ['a Content-Length list', login(`Content-Length: 1, ${padded.length}\r\n`, padded)],
  ]
  for (const [name, payload] of attacks) {
    test(`${name}: one 400, the connection closed, the hidden request never answered`, async () => {
      const raw = await exchangeUntilClose(payload)
      expect(statusLines(raw)).toEqual(['HTTP/1.1 400'])
    })
  }

  test('the API still serves normally afterwards', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
  })
})
