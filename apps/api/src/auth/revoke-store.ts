import type { Config } from '../config'
import type { RedisHandle } from '../platform/redis'

/**
 * Revoked sessions in Redis: `auth:revoked:<sessionId>` with a TTL of the access-token lifetime plus
 * clock leeway, which is exactly as long as an access token of that session can still verify.
 *
 * The database stays the truth: `sessions.revoked_at` (and the session row itself) is checked by the
 * guard on every request, so a revocation takes effect on the next request even with Redis down or
 * a marker lost. The marker is a fast path in front of it: a refused token (e.g. a stolen one being
 * replayed after the family was revoked) is turned away with one Redis GET, before any database
 * work. While Redis is failing, lookups are skipped for a few seconds so requests do not wait on it.
 */
export class RevokeStore {
  private skipUntil = 0

  constructor(
    private readonly redis: RedisHandle,
    private readonly ttlSeconds: number,
    private readonly backoffMs = 5_000,
  ) {}

  private key = (sessionId: string) => `auth:revoked:${sessionId}`

  async markRevoked(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return
    try {
      await this.redis.run((c) => Promise.all(sessionIds.map((id) => c.set(this.key(id), '1', 'EX', this.ttlSeconds))))
    } catch (error) {
      this.skipUntil = Date.now() + this.backoffMs
      this.redis.warn('could not record revoked sessions (the database still refuses them)', error)
    }
  }

  private userKey = (userId: string) => `auth:user-revoked:${userId}`

  /** Logout-all and account deletion: every token of the user issued before `cutoff` (seconds) is refused. */
  async markUserCutoff(userId: string, cutoff: number): Promise<void> {
    try {
      await this.redis.run((c) => c.set(this.userKey(userId), String(cutoff), 'EX', this.ttlSeconds))
    } catch (error) {
      this.skipUntil = Date.now() + this.backoffMs
      this.redis.warn('could not record a revoked user (the database still refuses the tokens)', error)
    }
  }

  /** Both markers in one round trip; null when Redis cannot answer (the caller asks the database). */
  async markers(sessionId: string, userId: string): Promise<{ sessionRevoked: boolean; userCutoff: number | null } | null> {
    if (Date.now() < this.skipUntil) return null
    try {
      const [session, user] = (await this.redis.run((c) => c.send('MGET', [this.key(sessionId), this.userKey(userId)]))) as [
        string | null,
        string | null,
      ]
      return { sessionRevoked: session != null, userCutoff: user == null ? null : Number(user) }
    } catch (error) {
      this.skipUntil = Date.now() + this.backoffMs
      this.redis.warn('revoke store unavailable, relying on the database', error)
      return null
    }
  }

  /** True when Redis knows the session is revoked; false when it does not or cannot answer. */
  async isRevoked(sessionId: string): Promise<boolean> {
    if (Date.now() < this.skipUntil) return false
    try {
      return (await this.redis.run((c) => c.exists(this.key(sessionId)))) === true
    } catch (error) {
      this.skipUntil = Date.now() + this.backoffMs
      this.redis.warn('revoke store unavailable, relying on the database', error)
      return false
    }
  }
}

const stores = new WeakMap<RedisHandle, RevokeStore>()
export function revokeStore(deps: { redis: RedisHandle; config: Config }): RevokeStore {
  let store = stores.get(deps.redis)
  if (!store) {
    store = new RevokeStore(deps.redis, deps.config.ACCESS_TOKEN_TTL_SECONDS + 30)
    stores.set(deps.redis, store)
  }
  return store
}
