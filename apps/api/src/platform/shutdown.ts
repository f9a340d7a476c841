/**
 * Graceful stop of one API process (SIGTERM / SIGINT), in an order that loses no request:
 *
 * 0. mark the process draining: /readyz answers 503 `draining` from now on (platform/drain.ts), and,
 *    when a drain delay is configured, keep serving for that long so a load balancer polling /readyz
 *    takes the instance out before its listener closes;
 * 1. stop the background loops (reconciler, sweeper, purger): nothing new starts;
 * 2. stop listening: new connections are refused, so a load balancer sends them to another
 *    instance; requests already running go on (Bun closes idle keep-alive connections at once);
 * 3. end every open SSE stream with a last `end` event, reason `shutdown`: the client reconnects
 *    with Last-Event-ID and, the listener being closed, lands on another instance;
 * 4. wait up to the grace period for the in-flight requests, then cut what is left;
 * 5. close the pools (LISTEN connection, Redis, PostgreSQL).
 *
 * Each step is passed in, so the order and the grace period are tested without a real process.
 */

import { errorFields, log as logger } from './logger'

export type ShutdownSteps = {
  /** Makes /readyz answer 503 `draining`. */
  startDraining: () => void
  /** How long to keep serving (and answering `draining`) before the listener closes. */
  drainDelayMs?: number
  /** Clears the background timers. */
  stopBackground: () => void
  /** Bun's `server.stop(closeActiveConnections)`: resolves once every connection is closed. */
  stopServer: (closeActiveConnections: boolean) => Promise<unknown>
  /** Ends the open SSE streams; returns how many. */
  endStreams: () => number
  /** Closes the event hub, Redis and the database pools. */
  closePools: () => Promise<void>
  graceMs: number
  log?: (message: string) => void
}

export type ShutdownOutcome = { streamsEnded: number; drained: boolean; ms: number }

export async function gracefulShutdown(steps: ShutdownSteps): Promise<ShutdownOutcome> {
  const started = Date.now()
  const log = steps.log ?? (() => {})
  steps.startDraining()
  if (steps.drainDelayMs) {
    log(`shutdown: /readyz answers draining; listener closes in ${steps.drainDelayMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, steps.drainDelayMs))
  }
  steps.stopBackground()
  const closed = steps.stopServer(false)
  const streamsEnded = steps.endStreams()
  log(`shutdown: listener closed, ${streamsEnded} event stream(s) told to reconnect; waiting up to ${steps.graceMs} ms for requests`)
  let timer: ReturnType<typeof setTimeout> | undefined
  const drained = await Promise.race([
    closed.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), steps.graceMs)
    }),
  ])
  clearTimeout(timer)
  if (!drained) {
    log('shutdown: grace period over; closing the remaining connections')
    await steps.stopServer(true)
  }
  await steps.closePools()
  const outcome = { streamsEnded, drained, ms: Date.now() - started }
  log(`shutdown: done in ${outcome.ms} ms (${drained ? 'all requests finished' : 'some requests were cut'})`)
  return outcome
}

/** Runs `shutdown` once on the first SIGTERM or SIGINT, then exits; a second signal exits at once. */
export function onStopSignals(shutdown: (signal: string) => Promise<unknown>): void {
  let stopping = false
  const handle = (signal: string) => {
    if (stopping) process.exit(1)
    stopping = true
    shutdown(signal).then(
      () => process.exit(0),
      (error) => {
        logger.error(errorFields(error), 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => handle('SIGTERM'))
  process.on('SIGINT', () => handle('SIGINT'))
}
