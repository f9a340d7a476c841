import { RedisClient } from 'bun'

/**
 * Bun's Redis client, wrapped so a request path never hangs on a dead Redis: commands fail fast
 * (no offline queue, a timeout per call) and a client that gave up reconnecting is replaced.
 */
export class RedisHandle {
  private client: RedisClient | null = null
  private lastWarning = 0

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
        maxRetries: 3,
        autoReconnect: true,
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
      // A client that exhausted its reconnects stays closed; start over on the next call.
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
    console.warn(`[redis] ${message}: ${error instanceof Error ? error.message : String(error)}`)
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.run((c) => c.send('PING', []))) === 'PONG'
    } catch {
      return false
    }
  }

  close(): void {
    this.client?.close()
    this.client = null
  }
}
