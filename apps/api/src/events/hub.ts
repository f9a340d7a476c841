import type { Sql } from '@vstep/db'
import { EVENTS_CHANNEL, SubmissionEventNotification } from '@vstep/contracts'
import { log } from '../platform/logger'

/** One notification of the `submission_events` trigger, parsed by the contract's schema. */
export type HubEvent = SubmissionEventNotification
type Listener = (event: HubEvent | 'resync') => void

/**
 * Relays PostgreSQL NOTIFY on `submission_events` to in-process subscribers. One LISTEN connection
 * per API process; every instance hears every commit, so SSE fan-out works across instances. After
 * a reconnect, subscribers get 'resync' and re-read what they may have missed from the table.
 */
export class SubmissionEventHub {
  private readonly listeners = new Map<string, Set<Listener>>()
  private unlisten: (() => Promise<void>) | null = null
  private listening = 0

  constructor(private readonly sql: Sql) {}

  async start(): Promise<void> {
    const { unlisten } = await this.sql.listen(
      EVENTS_CHANNEL,
      (payload) => this.dispatch(payload),
      () => {
        // Called on the first LISTEN and after every reconnect; only the latter can have lost events.
        if (this.listening++ > 0) for (const set of this.listeners.values()) for (const l of set) l('resync')
      },
    )
    this.unlisten = unlisten
  }

  private dispatch(payload: string): void {
    let raw: unknown
    try {
      raw = JSON.parse(payload)
    } catch {
      log.error({ component: 'events' }, 'ignoring a malformed submission_events notification')
      return
    }
    const parsed = SubmissionEventNotification.safeParse(raw)
    if (!parsed.success) {
      log.error({ component: 'events' }, 'ignoring a submission_events notification that does not match the contract')
      return
    }
    const event: HubEvent = parsed.data
    for (const key of [`submission:${event.submissionId}`, `user:${event.userId}`]) {
      for (const listener of this.listeners.get(key) ?? []) listener(event)
    }
  }

  /** Subscribes to one submission's or one user's events; returns the unsubscribe function. */
  subscribe(key: `submission:${string}` | `user:${string}`, listener: Listener): () => void {
    let set = this.listeners.get(key)
    if (!set) this.listeners.set(key, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0) this.listeners.delete(key)
    }
  }

  get subscriberCount(): number {
    let n = 0
    for (const set of this.listeners.values()) n += set.size
    return n
  }

  async stop(): Promise<void> {
    await this.unlisten?.()
    this.unlisten = null
  }
}
