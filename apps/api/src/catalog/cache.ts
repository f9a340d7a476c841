import { preparedBody } from '../platform/prepared-body'
import type { RedisHandle } from '../platform/redis'

/**
 * The catalogue from memory (level 1, below) in front of a cache-aside in Redis with a version key. Readers read the version first and cache under
 * `catalog:v<version>:<what>`; every write bumps the version after its commit, so the next read
 * misses and reloads from PostgreSQL. A reader that loaded old rows before a write can only store
 * them under the old version, which nobody reads any more: no stale read after a write.
 * When Redis is down, reads go to PostgreSQL. A bump that failed (Redis down during the write) is
 * retried before this instance trusts the cache again; other instances are bounded by the TTL.
 */
export const CATALOG_VERSION_KEY = 'catalog:version'
export const CATALOG_TTL_SECONDS = 300

const READ_SCRIPT = `
local v = redis.call('GET', KEYS[1]) or '0'
return {v, redis.call('GET', ARGV[1] .. v .. ':' .. ARGV[2])}`

export const CATALOG_CHANNEL = 'catalog:changes'

/** A body ready to serve: its bytes and its ETag, computed once. */
export type CatalogBody = {
  json: string
  etag: string
  source: 'memory' | 'cache' | 'db'
  /** Held bodies: both answers built once (platform/prepared-body.ts), sent as they are. */
  prepared?: { ok: Response; notModified: Response }
}

export class CatalogCache {
  private unbumped = false
  /**
   * Level 1: this process's memory, trusted only while the invalidation channel is subscribed (a
   * write on any instance publishes on it; a reconnect clears it). `epoch` counts invalidations, so a
   * read that started before one never stores what it read. Bounded by the catalogue itself: misses
   * are not kept, and list keys are one per (skill, part) filter.
   */
  private readonly memory = new Map<string, CatalogBody>()
  private epoch = 0

  constructor(private readonly redis: RedisHandle) {
    redis.subscriber.on(
      CATALOG_CHANNEL,
      () => this.forget(),
      () => this.forget(),
    )
  }

  private forget(): void {
    this.epoch++
    this.memory.clear()
  }

  /**
   * The JSON text of `what`, from memory, else from Redis when cached, else from `load` (and then
   * cached in both). A miss (`load` gives null) is not cached: one key per unknown id would let
   * anyone grow Redis at will.
   */
  async read(what: string, load: () => Promise<unknown>): Promise<CatalogBody> {
    const live = this.redis.subscriber.isLive(CATALOG_CHANNEL)
    if (live) {
      const held = this.memory.get(what)
      if (held) return held
    }
    const epoch = this.epoch
    const found = await this.readShared(what, load)
    const body: CatalogBody = { ...found, etag: etagOf(found.json) }
    if (live && epoch === this.epoch && found.json !== 'null')
      this.memory.set(what, { ...body, source: 'memory', prepared: preparedAnswers(found.json, body.etag) })
    return body
  }

  private async readShared(what: string, load: () => Promise<unknown>): Promise<{ json: string; source: 'cache' | 'db' }> {
    let version: string | null = null
    if (!this.unbumped || (await this.invalidate())) {
      try {
        const [v, hit] = (await this.redis.run((c) => c.send('EVAL', [READ_SCRIPT, '1', CATALOG_VERSION_KEY, 'catalog:v', what]))) as [
          string,
          string | null,
        ]
        if (hit != null) return { json: hit, source: 'cache' }
        version = String(v)
      } catch (error) {
        this.redis.warn('catalogue cache unavailable; serving from PostgreSQL', error)
      }
    }
    const value = await load()
    const json = JSON.stringify(value)
    if (version != null && value !== null) {
      const key = `catalog:v${version}:${what}`
      await this.redis.run((c) => c.send('SET', [key, json, 'EX', String(CATALOG_TTL_SECONDS)])).catch(() => {})
    }
    return { json, source: 'db' }
  }

  /** Called after every committed catalogue write. Returns whether the bump reached Redis. */
  async invalidate(): Promise<boolean> {
    // This cache and every other holder of catalogue facts in the process (submissions/task-facts.ts).
    this.redis.subscriber.deliverLocally(CATALOG_CHANNEL, 'changed')
    try {
      await this.redis.run((c) => c.send('INCR', [CATALOG_VERSION_KEY]))
      await this.redis.run((c) => c.publish(CATALOG_CHANNEL, 'changed'))
      this.unbumped = false
      return true
    } catch (error) {
      this.unbumped = true
      this.redis.warn('could not invalidate the catalogue cache; bypassing it until Redis answers', error)
      return false
    }
  }
}

/** The 200 and 304 answers of a held body; the bytes are UTF-8 once, not per request. */
function preparedAnswers(json: string, etag: string): { ok: Response; notModified: Response } {
  const headers = { etag, 'cache-control': 'no-cache', 'x-cache': 'memory' }
  return {
    ok: preparedBody(new TextEncoder().encode(json), 200, { ...headers, 'content-type': 'application/json' }),
    notModified: preparedBody(null, 304, headers),
  }
}

/** A strong ETag over the exact bytes served. */
export const etagOf = (json: string) => `"${new Bun.CryptoHasher('sha1').update(json).digest('base64url')}"`

/** True when If-None-Match lists this ETag (or `*`); weak comparison, as RFC 9110 asks for GET. */
export function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false
  const strip = (t: string) => t.trim().replace(/^W\//, '')
  return ifNoneMatch.split(',').some((t) => strip(t) === '*' || strip(t) === etag)
}
