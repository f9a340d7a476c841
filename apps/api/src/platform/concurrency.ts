import { ProblemError } from './problem'

/** Thrown when both the running slots and the wait queue of a {@link Semaphore} are full. */
export class SaturatedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('capacity exhausted')
  }
}

/** Thrown when one owner (a client IP, a user) already holds its whole share of a {@link Semaphore}. */
export class OwnerShareExceededError extends Error {
  constructor(
    readonly owner: string,
    readonly retryAfterSeconds: number,
  ) {
    super('owner share exhausted')
  }
}

/**
 * A counting semaphore with a bounded wait queue, shared fairly between owners. `run(fn, owners)`
 * starts `fn` when fewer than `limit` are running, queues it while the queue has room, and rejects
 * at once with {@link SaturatedError} otherwise, so a flood cannot pile up unbounded memory or latency.
 *
 * Fairness: each owner key (a client IP, a user id…) may hold at most `ownerLimit` tasks, running
 * and waiting together; beyond that its next task is refused with {@link OwnerShareExceededError}
 * (only that owner is refused). Waiters sit in one FIFO per owner and freed slots go round-robin
 * over the owners, so one busy owner's backlog does not delay anybody else's single task. A task
 * without owners gets a queue of its own.
 */
export class Semaphore {
  private running = 0
  private waitingCount = 0
  /** Waiters per queue key; Map order is the round-robin order. */
  private readonly queues = new Map<string, (() => void)[]>()
  /** Tasks (running + waiting) per owner key. */
  private readonly held = new Map<string, number>()
  private anonymous = 0

  constructor(
    readonly limit: number,
    readonly queueLimit: number,
    private readonly retryAfterSeconds = 1,
    readonly ownerLimit = Number.POSITIVE_INFINITY,
  ) {
    if (limit < 1) throw new Error('semaphore limit must be at least 1')
    if (ownerLimit < 1) throw new Error('semaphore owner limit must be at least 1')
  }

  get inFlight(): number {
    return this.running
  }
  get queued(): number {
    return this.waitingCount
  }
  /** Tasks running or waiting for one owner key. */
  heldBy(owner: string): number {
    return this.held.get(owner) ?? 0
  }

  async run<T>(fn: () => Promise<T>, owners: readonly string[] = []): Promise<T> {
    for (const owner of owners) {
      if (this.heldBy(owner) >= this.ownerLimit) throw new OwnerShareExceededError(owner, this.retryAfterSeconds)
    }
    if (this.running >= this.limit) {
      if (this.waitingCount >= this.queueLimit) throw new SaturatedError(this.retryAfterSeconds)
      this.hold(owners, 1)
      const queueKey = owners[0] ?? `\0anonymous:${++this.anonymous}`
      await new Promise<void>((resolve) => {
        const queue = this.queues.get(queueKey)
        if (queue) queue.push(resolve)
        else this.queues.set(queueKey, [resolve])
        this.waitingCount++
      })
    } else {
      this.hold(owners, 1)
      this.running++
    }
    try {
      return await fn()
    } finally {
      this.hold(owners, -1)
      const next = this.nextWaiter()
      // Hand the slot straight to the next waiter; `running` only drops when nobody waits.
      if (next) next()
      else this.running--
    }
  }

  private hold(owners: readonly string[], delta: number): void {
    for (const owner of owners) {
      const count = this.heldBy(owner) + delta
      if (count > 0) this.held.set(owner, count)
      else this.held.delete(owner)
    }
  }

  /** The head of the first queue; that queue then moves to the back (round-robin). */
  private nextWaiter(): (() => void) | undefined {
    for (const [key, queue] of this.queues) {
      const next = queue.shift()
      this.queues.delete(key)
      if (queue.length > 0) this.queues.set(key, queue)
      if (next) {
        this.waitingCount--
        return next
      }
    }
    return undefined
  }
}

/** The 503 problem a route answers when a bounded resource is saturated. */
export const saturatedProblem = (what: string, retryAfterSeconds: number) =>
  new ProblemError(503, 'Service Unavailable', `${what} is at capacity; retry shortly`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  })

/** The 429 problem for a client that already has its whole share of a bounded resource in use. */
export const shareExceededProblem = (what: string, retryAfterSeconds: number) =>
  new ProblemError(429, 'Too Many Requests', `too many concurrent ${what} requests from this client; retry shortly`, {
    type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
    headers: { 'retry-after': String(retryAfterSeconds) },
  })
