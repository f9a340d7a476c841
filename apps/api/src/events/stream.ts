import { and, asc, eq, gt } from 'drizzle-orm'
import { sse } from 'elysia'
import type { SubmissionEvent } from '@vstep/contracts'
import { submissionEvents, type Database } from '@vstep/db'
import { z } from 'zod'
import type { AppDeps } from '../deps'
import type { HubEvent, SubmissionEventHub } from './hub'

type Scope = { kind: 'submission'; id: string } | { kind: 'user'; id: string }

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
    .limit(1000)
  return rows.map((r) => ({
    id: r.id,
    submissionId: r.submissionId,
    from: r.fromStatus,
    to: r.toStatus,
    actor: r.actor,
    reason: r.reason,
    at: r.createdAt.toISOString(),
  }))
}

const toWire = (e: SubmissionEvent | HubEvent): SubmissionEvent => ({
  id: e.id,
  submissionId: e.submissionId,
  from: e.from,
  to: e.to,
  actor: e.actor,
  reason: e.reason,
  at: e.at,
})

/** `Last-Event-ID` (sent by EventSource on reconnect) or `?since=`; both are event ids. */
export function resumePoint(lastEventId: string | undefined, since: number | undefined): number {
  const fromHeader = lastEventId && /^\d+$/.test(lastEventId) ? Number(lastEventId) : 0
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
    pending.push(e)
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
        yield sse({ id: event.id, event: 'status', data: toWire(event) })
        if (opts.isLast?.(event)) return
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
      backlog = batch.includes('resync')
        ? await eventsSince(opts.db, opts.scope, lastId)
        : batch.filter((e): e is HubEvent => e !== 'resync').map(toWire)
    }
  } finally {
    unsubscribe()
    opts.signal.removeEventListener('abort', onAbort)
  }
}

/** The query of every SSE route: `?since=<event id>`, for clients that cannot set Last-Event-ID. */
export const StreamQuery = z.object({ since: z.coerce.number().int().min(0).optional() })

type StreamRequest = {
  headers: Record<string, string | undefined>
  query: z.infer<typeof StreamQuery>
  request: Request
  server: { timeout(request: Request, seconds: number): void } | null
}

/** What an SSE route handler yields: the stream of one scope, resumed where the client left off. */
export function liveStream(deps: AppDeps, ctx: StreamRequest, scope: Scope, isLast?: (event: SubmissionEvent) => boolean) {
  // SSE streams are long-lived by design; Bun's idle timeout must not cut them.
  ctx.server?.timeout(ctx.request, 0)
  return streamEvents({
    db: deps.db,
    hub: deps.events,
    scope,
    afterId: resumePoint(ctx.headers['last-event-id'], ctx.query.since),
    heartbeatMs: deps.config.SSE_HEARTBEAT_MS,
    signal: ctx.request.signal,
    ...(isLast ? { isLast } : {}),
  })
}
