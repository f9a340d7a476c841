import { createDatabase, runMigrations } from '@vstep/db'
import { createApp } from './app'
import { loadSigningKeys } from './auth/keys'
import { type Config, ConfigError, loadConfig } from './config'
import { SubmissionEventHub } from './events/hub'
import { openStreams } from './events/open-streams'
import { errorFields, log } from './platform/logger'
import { RedisHandle } from './platform/redis'
import { startDraining } from './platform/drain'
import { gracefulShutdown, onStopSignals } from './platform/shutdown'
import { purgeDeletedAudio } from './submissions/audio'
import { reconcileGradingQueue } from './submissions/service'
import { startSweeper } from './sweeper/sweeper'

let config: Config
try {
  config = loadConfig()
} catch (error) {
  if (error instanceof ConfigError) {
    // Plain text on stderr, not a JSON line: the operator reads it at the console, before anything runs.
    console.error(error.message)
    process.exit(2)
  }
  throw error
}

log.level = config.LOG_LEVEL // JSON lines on stdout (platform/logger.ts)
await runMigrations(config.DATABASE_URL)
const { db, sql, close } = createDatabase(config.DATABASE_URL)
const redis = new RedisHandle(config.REDIS_URL)
const events = new SubmissionEventHub(sql)
await events.start()
const deps = { config, db, sql, redis, events, keys: await loadSigningKeys(config) }
const app = createApp(deps).listen({ port: config.PORT, hostname: config.HOST })
log.info({ host: config.HOST, port: app.server?.port }, 'api listening')

const reconciler =
  config.RECONCILE_INTERVAL_MS > 0
    ? setInterval(() => {
        reconcileGradingQueue(deps).catch((error) => log.error(errorFields(error), 'reconciler failed'))
      }, config.RECONCILE_INTERVAL_MS)
    : null

// Fails submissions past their grading deadline (reason `timeout`); see docs/lifecycle.md.
const stopSweeper = config.SWEEP_INTERVAL_MS > 0 ? startSweeper(deps, config.SWEEP_INTERVAL_MS) : () => {}
// Recordings whose submission is gone and that a request could not delete at once (submissions/audio.ts).
const audioPurger =
  config.SWEEP_INTERVAL_MS > 0
    ? setInterval(() => {
        purgeDeletedAudio(deps).catch((error) => log.error(errorFields(error), 'audio purge failed'))
      }, config.SWEEP_INTERVAL_MS)
    : null

// SIGTERM / SIGINT: stop listening, tell SSE clients to reconnect elsewhere, let in-flight requests
// finish within SHUTDOWN_GRACE_MS, then close the pools (platform/shutdown.ts).
const server = app.server
onStopSignals(async (signal) => {
  log.info({ signal }, 'stop signal received, shutting down')
  await gracefulShutdown({
    startDraining: () => startDraining(deps),
    drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
    stopBackground: () => {
      if (reconciler) clearInterval(reconciler)
      stopSweeper()
      if (audioPurger) clearInterval(audioPurger)
    },
    stopServer: async (closeActive) => server?.stop(closeActive),
    endStreams: () => openStreams(deps).endAll('shutdown'),
    closePools: async () => {
      await events.stop()
      redis.close()
      await close()
    },
    graceMs: config.SHUTDOWN_GRACE_MS,
    log: (message) => log.info({ component: 'shutdown' }, message),
  })
})
