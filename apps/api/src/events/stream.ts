import { and, asc, eq, gt } from 'drizzle-orm'
import { sse } from 'elysia'
import { eventFromRow, toWireEvent, type SubmissionEvent } from '@vstep/contracts'
import { submissionEvents, type Database } from '@vstep/db'
import { z } from 'zod'
import type { CurrentUser } from '../auth/guard'
import type { AppDeps } from '../deps'
import { invalidField } from '../platform/problem'
import type { HubEvent, SubmissionEventHub } from './hub'
import { openStreams } from './open-streams'

type Scope = { kind: 'submission'; id: string } | { kind: 'user'; id: string }

/** Rows per read of the table (the first replay sends at most this many). */
const REPLAY_PAGE = 1000
/** Live events queued for one stream before they are replaced by a re-read of the table. */
const MAX_PENDING = 1000
/** Idle timeout (s) of the connection of a stream the server has ended (see liveStream). */
const ENDED_STREAM_IDLE_SECONDS = 5

/**
 * The `status` frame of one event, built once for every stream it reaches: the hub hands the same
 * event object to each subscriber, so with 10,000 streams the event is serialised once, not 10,000
 * times (Elysia calls `toSSE()` per chunk; the shared payload answers with the text made here).
 */
const frames = new WeakMap<SubmissionEvent, StatusFrame>()
type StatusFrame = { id: number; event: 'status'; data: SubmissionEvent }
export function statusFrame(event: SubmissionEvent): StatusFrame {
  let frame = frames.get(event)
  if (!frame) {
    const wire = toWireEvent(event)
    // Elysia's own format (sse().toSSE()): id, event and data lines, then a blank line.
    const text = `id: ${wire.id}\nevent: status\ndata: ${JSON.stringify(wire)}\n\n`
    frame = Object.assign(sse({ id: wire.id, event: 'status' as const, data: wire }), { toSSE: () => text })
    frames.set(event, frame)
  }
  return frame
}

/** Events after `afterId`, from the table: the source of truth for replay after a reconnect. */
async function eventsSince(db: Database, scope: Scope, afterId: number): Promise<SubmissionEvent[]> {
  const rows = await db
    .select()
    .from(submissionEvents)
    .where(
      and(
        scope.kind === 'submission' ? eq(submissionEvents.submissionId, scope.id) : eq(submissionEvents.userId, scope.id),
        gt(submissionEvents.id, afterId),
      ),
    )
    .orderBy(asc(submissionEvents.id))
    .limit(REPLAY_PAGE)
  return rows.map((r) => toWireEvent(eventFromRow(r)))
}

/**
 * An event id sent back by a client (`?since=` or `Last-Event-ID`): a whole number from 0 to 2^53 − 1.
 * Ids are bigserial but read as JS numbers; anything larger would reach PostgreSQL as a value it
 * cannot cast to bigint.
 */
export const EventIdCursor = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

/**
 * `Last-Event-ID` (sent by EventSource on reconnect) or `?since=`; both are event ids, checked by
 * the same rule ({@link EventIdCursor}). A malformed header is a 422 like a malformed `?since=`.
 */
export function resumePoint(lastEventId: string | undefined, since: number | undefined): number {
  let fromHeader = 0
  if (lastEventId !== undefined && lastEventId.trim() !== '') {
    const parsed = EventIdCursor.safeParse(lastEventId)
    if (!parsed.success)
      throw invalidField('headers.last-event-id', `must be an event id (a whole number from 0 to ${Number.MAX_SAFE_INTEGER})`)
    fromHeader = parsed.data
  }
  return Math.max(fromHeader, since ?? 0)
}

/**
 * The body of an SSE stream: first what the client missed (from the table), then live events from
 * the hub, with a heartbeat so idle proxies and Bun's idle timeout keep the stream open. The hub
 * subscription starts before the replay query, so nothing falls between the two; ids deduplicate.
 */
export async function* streamEvents(opts: {
  db: Database
  hub: SubmissionEventHub
  scope: Scope
  afterId: number
  heartbeatMs: number
  signal: AbortSignal
  /** Stop once this event is delivered (a submission stream ends at `completed`). */
  isLast?: (event: SubmissionEvent) => boolean
}) {
  const pending: (HubEvent | 'resync')[] = []
  let wake: (() => void) | null = null
  const unsubscribe = opts.hub.subscribe(`${opts.scope.kind}:${opts.scope.id}`, (e) => {
    // An ended stream that is not pulled any more (its client stopped reading) collects nothing.
    if (opts.signal.aborted) return
    // A client that reads slower than events arrive does not grow memory: past the bound the queue
    // collapses to one 'resync', and the table (the source of truth) is re-read when it catches up.
    if (pending.length >= MAX_PENDING) pending.splice(0, pending.length, 'resync')
    else pending.push(e)
    wake?.()
  })
  const onAbort = () => wake?.()
  opts.signal.addEventListener('abort', onAbort)
  let lastId = opts.afterId
  try {
    yield sse({ event: 'ready', retry: 3000, data: { afterId: lastId } })
    let backlog: SubmissionEvent[] = await eventsSince(opts.db, opts.scope, lastId)
    while (!opts.signal.aborted) {
      for (const event of backlog) {
        if (event.id <= lastId) continue
        lastId = event.id
        yield statusFrame(event)
        if (opts.isLast?.(event)) return
        // A long backlog is not drained into a stream that was ended meanwhile.
        if (opts.signal.aborted) return
      }
      backlog = []
      if (pending.length === 0) {
        let timer: ReturnType<typeof setTimeout> | undefined
        const timedOut = await new Promise<boolean>((resolve) => {
          wake = () => resolve(false)
          timer = setTimeout(() => resolve(true), opts.heartbeatMs)
        })
        clearTimeout(timer)
        wake = null
        if (opts.signal.aborted) return
        if (timedOut) {
          yield sse({ event: 'ping', data: { at: new Date().toISOString() } })
          continue
        }
      }
      const batch = pending.splice(0)
      if (batch.includes('resync')) {
        backlog = await eventsSince(opts.db, opts.scope, lastId)
        // A full page may not be all that was missed: read on after it.
        if (backlog.length === REPLAY_PAGE) pending.push('resync')
      } else {
        // The hub's own objects, so their frames are shared (statusFrame).
        backlog = batch.filter((e): e is HubEvent => e !== 'resync')
      }
    }
  } finally {
    unsubscribe()
    opts.signal.removeEventListener('abort', onAbort)
  }
}

/** The query of every SSE route: `?since=<event id>`, for clients that cannot set Last-Event-ID. */
export const StreamQuery = z.object({ since: EventIdCursor.optional() })

type StreamRequest = {
  headers: Record<string, string | undefined>
  query: z.infer<typeof StreamQuery>
  request: Request
  server: { timeout(request: Request, seconds: number): void } | null
  user: CurrentUser
}

/**
 * What an SSE route handler yields: the stream of one scope, resumed where the client left off.
 * Everything that can refuse the stream (a malformed Last-Event-ID → 422, an expired token → 401,
 * the per-user cap → 429) runs before the first event, so it is answered as a problem. The stream
 * then lives until the client leaves, the scope ends, or the server ends it (session over, token
 * expired: see open-streams.ts), in which case a last `end` event says why.
 */
export async function* liveStream(deps: AppDeps, ctx: StreamRequest, scope: Scope, isLast?: (event: SubmissionEvent) => boolean) {
  const afterId = resumePoint(ctx.headers['last-event-id'], ctx.query.since)
  const lease = await openStreams(deps).admit(ctx.user, ctx.headers.authorization)
  try {
    // SSE streams are long-lived by design; Bun's idle timeout must not cut them...
    ctx.server?.timeout(ctx.request, 0)
    // ...until the server ends the stream. A client that stopped reading (its socket full) never
    // pulls the `end` event, so the generator would wait at a yield for good; with the idle timeout
    // back, Bun closes that connection once nothing could be written for a few seconds.
    lease.signal.addEventListener('abort', () => ctx.server?.timeout(ctx.request, ENDED_STREAM_IDLE_SECONDS), { once: true })
    yield* streamEvents({
      db: deps.db,
      hub: deps.events,
      scope,
      afterId,
      heartbeatMs: deps.config.SSE_HEARTBEAT_MS,
      signal: AbortSignal.any([ctx.request.signal, lease.signal]),
      ...(isLast ? { isLast } : {}),
    })
    const reason = lease.endedBecause
    if (reason && !ctx.request.signal.aborted) yield sse({ event: 'end', data: { reason } })
  } finally {
    lease.release()
  }
}
