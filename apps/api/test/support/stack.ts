import { afterAll, beforeAll } from 'bun:test'
import { join } from 'node:path'
import { REPO_ROOT, startService, waitFor, WORKER_DIR, type Service } from './processes'
import { freePort } from './redis-server'

/**
 * The platform's own processes for end-to-end tests and benchmarks: the API as `bun src/index.ts`
 * (it migrates at start-up, as in production) and the worker as `python -m grader`. Started
 * services are pushed onto `services`, which the caller stops.
 */
type Env = Record<string, string>

/** Starts an API process on a free port, waits for /readyz and returns its base URL. */
export async function startApiProcess(services: Service[], options: { env: Env; keyDir: string; name?: string }): Promise<string> {
  const port = freePort()
  const url = `http://127.0.0.1:${port}`
  const name = options.name ?? 'api'
  services.push(
    startService(name, ['bun', 'src/index.ts'], {
      cwd: join(REPO_ROOT, 'apps/api'),
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        DEV_KEY_DIR: options.keyDir,
        // Cheap Argon2: these tests are about the flow, not the hash cost.
        ARGON2_MEMORY_KIB: '1024',
        ARGON2_TIME_COST: '1',
        // Polling a condition every 50 ms is many reads a minute: the read limit is not under test here.
        RATE_LIMIT_READ_ANONYMOUS: '1000000',
        RATE_LIMIT_READ_LEARNER: '1000000',
        RATE_LIMIT_READ_STAFF: '1000000',
        ...options.env,
      },
    }),
  )
  await waitFor(`${name} to be ready`, async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 30_000, services)
  return url
}

/** Starts a grading worker process. */
export function startWorkerProcess(services: Service[], options: { env: Env; name?: string }): Service {
  const worker = startService(options.name ?? 'worker', ['uv', 'run', '--frozen', 'python', '-m', 'grader'], {
    cwd: WORKER_DIR,
    env: { UV_PYTHON_DOWNLOADS: 'never', ...options.env },
  })
  services.push(worker)
  return worker
}

/** Migrates and seeds the catalogue with the project's CLI; throws with its output on failure. */
export function seedDatabase(env: Env): void {
  const run = Bun.spawnSync(['bun', 'src/cli.ts', 'seed'], {
    cwd: join(REPO_ROOT, 'packages/db'),
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (run.exitCode !== 0) throw new Error(`seeding failed:\n${run.stderr.toString()}`)
}

export type Stack = { apiUrl: string; databaseUrl: string; redisUrl: string; services: Service[]; stop: () => Promise<void> }

/**
 * The usual end-to-end setup in one call: a private database (migrated by the API at start-up, as in
 * production) and Redis, an API process, the seeded catalogue and one worker process. `stop` removes
 * everything it made, also after a failed start.
 */
export async function startStack(options: { apiEnv?: Env; workerEnv?: Env } = {}): Promise<Stack> {
  const { createTestDatabase } = await import('@vstep/db/testing')
  const { startTestRedis } = await import('./redis-server')
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const services: Service[] = []
  const database = await createTestDatabase({ migrate: false })
  const redis = await startTestRedis()
  const keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  const stop = async () => {
    for (const service of services) await service.stop()
    await redis.dispose()
    await database.drop()
    rmSync(keyDir, { recursive: true, force: true })
  }
  try {
    const env = { DATABASE_URL: database.url, REDIS_URL: redis.url }
    const apiUrl = await startApiProcess(services, { env: { ...env, ...options.apiEnv }, keyDir })
    seedDatabase(env)
    startWorkerProcess(services, { env: { ...env, ...options.workerEnv } })
    return { apiUrl, databaseUrl: database.url, redisUrl: redis.url, services, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * `startStack` for a whole test file: starts it in `beforeAll`, stops it in `afterAll`, and returns a
 * getter (`stack()`) for the tests, which run after `beforeAll`.
 */
export function useStack(options: Parameters<typeof startStack>[0] = {}): () => Stack {
  let stack: Stack | undefined
  beforeAll(async () => {
    stack = await startStack(options)
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
  })
  return () => {
    if (!stack) throw new Error('the stack is not running (used outside a test?)')
    return stack
  }
}
