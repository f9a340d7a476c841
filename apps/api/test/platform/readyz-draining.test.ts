import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import { createApp } from '../../src/app'
import { startDraining } from '../../src/platform/drain'
import { createTestContext, type TestContext } from '../support/context'
import type { Service } from '../support/processes'
import { startTestRedis, type TestRedis } from '../support/redis-server'
import { startApiProcess } from '../support/stack'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext()
})
afterAll(() => ctx.close())

const readyz = async (app: { handle: (r: Request) => Promise<Response> }) => {
  const res = await app.handle(new Request('http://localhost/readyz'))
  return { status: res.status, body: await res.json() }
}

test('/readyz answers 503 draining once the app is draining, whatever its dependencies say; other apps are not', async () => {
  const deps = { ...ctx.deps }
  const app = createApp(deps)
  expect(await readyz(app)).toEqual({ status: 200, body: { status: 'ready' } })
  startDraining(deps)
  expect(await readyz(app)).toEqual({ status: 503, body: { status: 'draining' } })
  expect(await readyz(ctx.app)).toEqual({ status: 200, body: { status: 'ready' } })
})

/**
 * A real API process: after SIGTERM, /readyz on the same port answers 503 draining (while the drain
 * delay keeps the listener open), then the process exits 0.
 */
let database: TestDatabase
let redis: TestRedis
test('a real API process answers /readyz 503 draining from its SIGTERM, then exits cleanly', async () => {
  database = await createTestDatabase({ migrate: false })
  redis = await startTestRedis()
  const keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  const services: Service[] = []
  try {
    const url = await startApiProcess(services, {
      env: { DATABASE_URL: database.url, REDIS_URL: redis.url, SHUTDOWN_DRAIN_DELAY_MS: '5000', LOG_LEVEL: 'info' },
      keyDir,
    })
    const api = services[0]!
    expect((await fetch(`${url}/readyz`)).status).toBe(200)
    api.proc.kill('SIGTERM')
    const deadline = Date.now() + 5_000
    let seen: { status: number; body: unknown } | null = null
    while (!seen && Date.now() < deadline) {
      const res = await fetch(`${url}/readyz`)
      const body = await res.json()
      if (res.status === 503) seen = { status: res.status, body }
      else await Bun.sleep(20) // polling for a condition with a deadline
    }
    expect(seen).toEqual({ status: 503, body: { status: 'draining' } })
    expect(await api.proc.exited).toBe(0)
    // The shutdown is logged as JSON lines by the structured logger.
    const jsonLines = () =>
      api
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{') && l.endsWith('}'))
        .map((l) => JSON.parse(l) as { msg?: string; component?: string })
    // The pipes may still hold the last lines when the process has exited: wait for them, with a deadline.
    const readUntil = Date.now() + 5_000
    while (!jsonLines().some((l) => l.msg?.startsWith('shutdown: done')) && Date.now() < readUntil) await Bun.sleep(20)
    const lines = jsonLines()
    expect(lines.some((l) => l.msg === 'stop signal received, shutting down')).toBe(true)
    expect(lines.some((l) => l.component === 'shutdown' && l.msg?.includes('/readyz answers draining'))).toBe(true)
  } finally {
    for (const s of services) await s.stop()
    await redis.dispose()
    await database.drop()
    rmSync(keyDir, { recursive: true, force: true })
  }
}, 60_000)
