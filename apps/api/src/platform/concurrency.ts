import { ProblemError } from './problem'

/** Thrown when both the running slots and the wait queue of a {@link Semaphore} are full. */
export class SaturatedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('capacity exhausted')
  }
}

/**
 * A counting semaphore with a bounded FIFO wait queue. `run(fn)` starts `fn` when fewer than
 * `limit` are running, queues it while the queue has room, and rejects at once with
 * {@link SaturatedError} otherwise, so a flood cannot pile up unbounded memory or latency.
 */
export class Semaphore {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(
    readonly limit: number,
    readonly queueLimit: number,
    private readonly retryAfterSeconds = 1,
  ) {
    if (limit < 1) throw new Error('semaphore limit must be at least 1')
  }

  get inFlight(): number {
    return this.running
  }
  get queued(): number {
    return this.waiting.length
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.queueLimit) throw new SaturatedError(this.retryAfterSeconds)
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    } else {
      this.running++
    }
    try {
      return await fn()
    } finally {
      const next = this.waiting.shift()
      // Hand the slot straight to the next waiter; `running` only drops when nobody waits.
      if (next) next()
      else this.running--
    }
  }
}

/** The 503 problem a route answers when a bounded resource is saturated. */
export const saturatedProblem = (what: string, retryAfterSeconds: number) =>
  new ProblemError(503, 'Service Unavailable', `${what} is at capacity; retry shortly`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  })
