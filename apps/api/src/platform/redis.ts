import { RedisClient } from 'bun'
import { RedisSubscriber } from './redis-subscriber'
import { log } from './logger'

/**
 * Bun's Redis client, wrapped so a request path never hangs on a dead Redis: commands fail fast
 * (no offline queue, a timeout per call). The client's own reconnect loop is off: it would hold
 * each call for its whole backoff (hundreds of ms) during an outage. Instead a client that lost its
 * connection is dropped and the next call connects afresh, which costs about a millisecond, and
 * fails at once (connection refused) while Redis is down.
 */
export class RedisHandle {
  private client: RedisClient | null = null
  private lastWarning = 0
  private pubsub: RedisSubscriber | null = null

  constructor(
    readonly url: string,
    private readonly timeoutMs = 1_000,
    private readonly warnEveryMs = 30_000,
  ) {}

  private current(): RedisClient {
    if (!this.client) {
      this.client = new RedisClient(this.url, {
        enableOfflineQueue: false,
        connectionTimeout: this.timeoutMs,
        autoReconnect: false,
      })
    }
    return this.client
  }

  /** Runs `fn` against Redis; rejects within the timeout when Redis is unreachable. */
  async run<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = this.current()
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      return await Promise.race([
        // Without an offline queue, a command sent before the connection is up fails; connect first.
        (client.connected ? Promise.resolve() : client.connect()).then(() => fn(client)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs)
        }),
      ])
    } catch (error) {
      // A client without a connection is not reused; the next call starts a new one.
      if (!client.connected && this.client === client) {
        this.client = null
        client.close()
      }
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  /** Logs a degradation warning at most once per interval, so an outage does not flood the log. */
  warn(message: string, error: unknown): void {
    const now = Date.now()
    if (now - this.lastWarning < this.warnEveryMs) return
    this.lastWarning = now
    log.warn({ component: 'redis', err: { message: error instanceof Error ? error.message : String(error) } }, message)
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.run((c) => c.send('PING', []))) === 'PONG'
    } catch {
      return false
    }
  }

  /** The process's pub/sub connection for cache invalidation (created on first use). */
  get subscriber(): RedisSubscriber {
    if (!this.pubsub) this.pubsub = new RedisSubscriber(this.url, (message, error) => this.warn(message, error))
    return this.pubsub
  }

  close(): void {
    this.pubsub?.close()
    this.pubsub = null
    this.client?.close()
    this.client = null
  }
}
