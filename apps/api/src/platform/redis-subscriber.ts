import { RedisClient } from 'bun'
import { errorFields, log } from './logger'

type Handler = (message: string) => void
type Channel = { handlers: Set<Handler>; resets: Set<() => void> }

/**
 * One Redis pub/sub connection per API process, for cache invalidation across instances
 * (auth/session-cache.ts, catalog/cache.ts). A cache may only trust itself while its channel is
 * subscribed: a message published while this connection was down is lost, so every (re)subscription
 * first runs the channel's `reset` callbacks (caches drop everything), and `isLive(channel)` is false
 * from the moment the connection closes until the channel is subscribed again. Reconnects every
 * `retryMs` on its own (unref'd timer), warns through the handle's rate-limited logger.
 */
export class RedisSubscriber {
  private client: RedisClient | null = null
  private readonly channels = new Map<string, Channel>()
  private readonly subscribed = new Set<string>()
  private retry: ReturnType<typeof setTimeout> | null = null
  private connecting = false
  private closed = false

  constructor(
    private readonly url: string,
    private readonly warn: (message: string, error: unknown) => void,
    private readonly retryMs = 1_000,
  ) {}

  /** True while messages on `channel` are being received (nothing can have been missed since the last reset). */
  isLive(channel: string): boolean {
    return this.subscribed.has(channel)
  }

  /** Listens on `channel`; `reset` runs before every (re)subscription, when messages may have been missed. */
  on(channel: string, handler: Handler, reset: () => void): void {
    let entry = this.channels.get(channel)
    if (!entry) this.channels.set(channel, (entry = { handlers: new Set(), resets: new Set() }))
    entry.handlers.add(handler)
    entry.resets.add(reset)
    if (this.client?.connected && !this.connecting) void this.subscribe(this.client, channel)
    else void this.connect()
  }

  /**
   * Runs `channel`'s handlers in this process now, as if `message` had arrived: a writer's own
   * caches forget at once instead of after the round trip through Redis (it publishes as well).
   */
  deliverLocally(channel: string, message: string): void {
    this.dispatch(channel, message)
  }

  private dispatch(channel: string, message: string): void {
    for (const handler of this.channels.get(channel)?.handlers ?? []) {
      try {
        handler(message)
      } catch (error) {
        log.error({ component: 'redis', channel, ...errorFields(error, true) }, 'invalidation handler failed')
      }
    }
  }

  private async subscribe(client: RedisClient, channel: string): Promise<void> {
    if (this.subscribed.has(channel)) return
    await client.subscribe(channel, (message) => this.dispatch(channel, message))
    for (const reset of this.channels.get(channel)?.resets ?? []) reset()
    if (this.client === client) this.subscribed.add(channel)
  }

  private async connect(): Promise<void> {
    if (this.closed || this.client || this.connecting) return
    this.connecting = true
    const client = new RedisClient(this.url, { enableOfflineQueue: false, connectionTimeout: 1_000, autoReconnect: false })
    client.onclose = (error) => {
      if (this.client !== client) return
      this.client = null
      this.subscribed.clear()
      if (!this.closed) {
        this.warn('invalidation channel closed; caches bypassed until it is back', error)
        this.scheduleRetry()
      }
    }
    this.client = client
    try {
      await client.connect()
      for (const channel of this.channels.keys()) await this.subscribe(client, channel)
    } catch (error) {
      this.warn('could not subscribe to the invalidation channels; caches bypassed', error)
      if (this.client === client) {
        this.client = null
        this.subscribed.clear()
        client.close()
        this.scheduleRetry()
      }
    } finally {
      this.connecting = false
    }
  }

  private scheduleRetry(): void {
    if (this.retry || this.closed) return
    this.retry = setTimeout(() => {
      this.retry = null
      void this.connect()
    }, this.retryMs)
    this.retry.unref?.()
  }

  close(): void {
    this.closed = true
    if (this.retry) clearTimeout(this.retry)
    this.subscribed.clear()
    const client = this.client
    this.client = null
    client?.close()
  }
}
