import type { Database, Sql } from '@vstep/db'
import type { SigningKeys } from './auth/keys'
import type { Config } from './config'
import type { SubmissionEventHub } from './events/hub'
import type { RedisHandle } from './platform/redis'

/** Everything the feature plugins need, built once by the entry point (or a test). */
export type AppDeps = {
  config: Config
  db: Database
  sql: Sql
  redis: RedisHandle
  events: SubmissionEventHub
  keys: SigningKeys
}
