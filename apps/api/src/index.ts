import { createDatabase, runMigrations } from '@vstep/db'
import { createApp } from './app'
import { loadSigningKeys } from './auth/keys'
import { ConfigError, loadConfig } from './config'
import { SubmissionEventHub } from './events/hub'
import { errorFields, log } from './platform/logger'
import { RedisHandle } from './platform/redis'
import { purgeDeletedAudio } from './submissions/audio'
import { reconcileGradingQueue } from './submissions/service'
import { startSweeper } from './sweeper/sweeper'

let config
try {
  config = loadConfig()
} catch (error) {
  if (error instanceof ConfigError) {
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

async function shutdown(signal: string) {
  console.info(`${signal} received, shutting down`)
  if (reconciler) clearInterval(reconciler)
  stopSweeper()
  if (audioPurger) clearInterval(audioPurger)
  await app.stop(true)
  await events.stop()
  redis.close()
  await close()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
