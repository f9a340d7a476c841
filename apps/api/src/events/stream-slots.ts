import type { RedisHandle } from '../platform/redis'

/*
 * The per-user cap on open SSE streams, shared by every API instance through Redis.
 *
 * Each user has a sorted set `sse:streams:<userId>` whose members are the ids of that user's open
 * streams and whose scores are lease deadlines (Redis clock, ms). A stream is admitted by ONE Lua
 * script that drops expired leases, counts the rest and adds the new member only while the count is
 * below the cap, so concurrent opens on different instances cannot overshoot it. The instance that
 * holds a stream renews its lease on every check tick and removes the member when the stream ends.
 * If an instance dies without cleaning up, its members expire after the lease, so a crash frees its
 * users' slots within `leaseMs` instead of locking them out.
 */

const CLAIM_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], lease)
return 1
`

/** ARGV = lease, then per key: the number of members, then the members. */
const RENEW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local i = 2
for k = 1, #KEYS do
  local n = tonumber(ARGV[i])
  for j = 1, n do redis.call('ZADD', KEYS[k], now + lease, ARGV[i + j]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', now)
  redis.call('PEXPIRE', KEYS[k], lease)
  i = i + n + 1
end
return 1
`

export const streamSlotsKey = (userId: string) => `sse:streams:${userId}`

/** Users per RENEW script call: keeps one script call short on a busy instance. */
const RENEW_CHUNK = 200

export class StreamSlots {
  private skipUntil = 0

  constructor(
    private readonly redis: RedisHandle,
    private readonly cap: number,
    readonly leaseMs: number,
    private readonly backoffMs = 5_000,
  ) {}

  /**
   * 'claimed' or 'full'; 'unavailable' when Redis cannot answer, in which case the caller falls
   * back to its own per-instance count (the cap then holds per instance only).
   */
  async claim(userId: string, streamId: string): Promise<'claimed' | 'full' | 'unavailable'> {
    if (Date.now() < this.skipUntil) return 'unavailable'
    try {
      const reply = await this.redis.run((c) =>
        c.send('EVAL', [CLAIM_LUA, '1', streamSlotsKey(userId), String(this.leaseMs), String(this.cap), streamId]),
      )
      return Number(reply) === 1 ? 'claimed' : 'full'
    } catch (error) {
      this.failed('stream cap falling back to a per-instance count', error)
      return 'unavailable'
    }
  }

  /** Renews the leases of the streams this instance holds (and re-adds them after a Redis restart). */
  async renew(streamsByUser: ReadonlyMap<string, readonly string[]>): Promise<void> {
    if (streamsByUser.size === 0 || Date.now() < this.skipUntil) return
    const users = [...streamsByUser.entries()]
    try {
      for (let start = 0; start < users.length; start += RENEW_CHUNK) {
        const chunk = users.slice(start, start + RENEW_CHUNK)
        const args = [String(this.leaseMs), ...chunk.flatMap(([, ids]) => [String(ids.length), ...ids])]
        await this.redis.run((c) => c.send('EVAL', [RENEW_LUA, String(chunk.length), ...chunk.map(([u]) => streamSlotsKey(u)), ...args]))
      }
    } catch (error) {
      this.failed('could not renew stream leases (they are re-added on the next tick)', error)
    }
  }

  /** Best effort: a member left behind expires with its lease. */
  async release(userId: string, streamId: string): Promise<void> {
    if (Date.now() < this.skipUntil) return
    try {
      await this.redis.run((c) => c.zrem(streamSlotsKey(userId), streamId))
    } catch (error) {
      this.failed('could not release a stream slot (its lease will expire)', error)
    }
  }

  private failed(message: string, error: unknown): void {
    this.skipUntil = Date.now() + this.backoffMs
    this.redis.warn(message, error)
  }
}
