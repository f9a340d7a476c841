import { createDatabase } from '@vstep/db'
import { seedTasks } from '@vstep/db/seed'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import { createApp, type App } from '../../src/app'
import { generateSigningKeys } from '../../src/auth/keys'
import { loadConfig, type Config } from '../../src/config'
import type { AppDeps } from '../../src/deps'
import { SubmissionEventHub } from '../../src/events/hub'
import { RedisHandle } from '../../src/platform/redis'
import { startTestRedis, type TestRedis } from './redis-server'

export type TestContext = {
  app: App
  deps: AppDeps
  database: TestDatabase
  redisServer: TestRedis
  /** Calls the app in-process (no socket) with JSON in and out. */
  call: (method: string, path: string, init?: { body?: unknown; token?: string; headers?: Record<string, string> }) => Promise<Response>
  /** Registers a fresh learner and signs in; returns the access token and user id. */
  signUp: (overrides?: { email?: string; password?: string }) => Promise<{ token: string; userId: string; email: string; password: string }>
  close: () => Promise<void>
}

/** Environment every test process shares: cheap Argon2 so suites stay fast (production uses the defaults). */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://placeholder@127.0.0.1:5432/placeholder',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    SSE_HEARTBEAT_MS: '1000',
    RECONCILE_INTERVAL_MS: '0',
    ...overrides,
  })
}

/** A real PostgreSQL database and a private Redis for one test file, plus the app wired to them. */
export async function createTestContext(configOverrides: Record<string, string> = {}): Promise<TestContext> {
  const database = await createTestDatabase()
  const redisServer = await startTestRedis().catch(async (error) => {
    await database.drop()
    throw error
  })
  try {
    return await buildContext(database, redisServer, configOverrides)
  } catch (error) {
    // A context that fails half-built must not leave its database or redis-server behind.
    await redisServer.dispose()
    await database.drop()
    throw error
  }
}

async function buildContext(database: TestDatabase, redisServer: TestRedis, configOverrides: Record<string, string>): Promise<TestContext> {
  const config = testConfig({ DATABASE_URL: database.url, REDIS_URL: redisServer.url, ...configOverrides })
  const { db, sql, close } = createDatabase(database.url, { max: 10 })
  await seedTasks(db)
  const redis = new RedisHandle(redisServer.url)
  const events = new SubmissionEventHub(sql)
  await events.start()
  const deps: AppDeps = { config, db, sql, redis, events, keys: await generateSigningKeys() }
  const app = createApp(deps)

  const call: TestContext['call'] = (method, path, init = {}) =>
    app.handle(
      new Request(`http://localhost${path}`, {
        method,
        headers: {
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          ...init.headers,
        },
        ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
      }),
    )

  const signUp: TestContext['signUp'] = async (overrides = {}) => {
    const email = overrides.email ?? `learner-${crypto.randomUUID()}@example.test`
    const password = overrides.password ?? 'correct horse battery staple'
    const reg = await call('POST', '/v1/auth/register', { body: { email, password, displayName: 'Test Learner' } })
    if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${await reg.text()}`)
    const login = await call('POST', '/v1/auth/login', { body: { email, password } })
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`)
    const body = (await login.json()) as { accessToken: string; user: { id: string } }
    return { token: body.accessToken, userId: body.user.id, email, password }
  }

  return {
    app,
    deps,
    database,
    redisServer,
    call,
    signUp,
    close: async () => {
      await events.stop()
      redis.close()
      await close()
      await redisServer.dispose()
      await database.drop()
    },
  }
}
