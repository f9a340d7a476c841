import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RedisClient } from 'bun'

export type TestRedis = {
  url: string
  port: number
  start: () => Promise<void>
  stop: () => Promise<void>
  dispose: () => Promise<void>
}

export const freePort = (): number => {
  const server = Bun.serve({ port: 0, fetch: () => new Response() })
  const port = server.port as number
  server.stop(true)
  return port
}

async function waitForPing(url: string, deadlineMs = 5_000): Promise<void> {
  const until = Date.now() + deadlineMs
  for (;;) {
    const client = new RedisClient(url, { connectionTimeout: 200, maxRetries: 0, autoReconnect: false })
    try {
      if ((await client.send('PING', [])) === 'PONG') return
    } catch (error) {
      if (Date.now() > until) throw new Error(`redis at ${url} did not start: ${String(error)}`)
      await Bun.sleep(20) // polling a condition with a deadline, not sleeping for an outcome
    } finally {
      client.close()
    }
  }
}

/**
 * A private redis-server on a free port for one test file: its own key space, nothing shared with
 * the machine's Redis. `stop` and `start` simulate an outage; `dispose` removes it for good.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const port = freePort()
  const dir = mkdtempSync(join(tmpdir(), 'vstep-redis-'))
  const url = `redis://127.0.0.1:${port}`
  let proc: ReturnType<typeof Bun.spawn> | null = null
  const start = async () => {
    if (proc) return
    proc = Bun.spawn(['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdout: 'ignore',
      stderr: 'inherit',
    })
    // If the test process dies without its afterAll (crash, timeout kill), take the server with it.
    const running = proc
    process.once('exit', () => running.kill('SIGKILL'))
    await waitForPing(url)
  }
  const stop = async () => {
    if (!proc) return
    const running = proc
    proc = null
    running.kill('SIGKILL')
    await running.exited
  }
  await start()
  return {
    url,
    port,
    start,
    stop,
    dispose: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
