import { z } from 'zod'
import { SubmissionEvent } from './api'
import type { SubmissionStatus } from './vocabulary'

/** The PostgreSQL NOTIFY channel the event trigger announces on and every API process LISTENs to. */
export const EVENTS_CHANNEL = 'submission_events'

/**
 * THE shape of one status event. Two writers produce it: the SQL trigger `submission_events_notify`
 * (packages/db, the NOTIFY payload) and `eventFromRow` below (replay from the table). The API parses
 * every notification with this schema, and packages/db/test/event-payload.test.ts checks that the
 * trigger's payload passes it and equals `eventFromRow` of the same row, so the two cannot drift.
 * Over SSE the client gets it without `userId` (`SubmissionEvent`).
 */
export const SubmissionEventNotification = SubmissionEvent.extend({
  userId: z.uuid(),
  at: z.iso.datetime({ precision: 3 }),
}).strict()
export type SubmissionEventNotification = z.infer<typeof SubmissionEventNotification>

/** A `submission_events` row as Drizzle reads it. */
export type SubmissionEventRow = {
  id: number
  submissionId: string
  userId: string
  fromStatus: SubmissionStatus | null
  toStatus: SubmissionStatus
  actor: string
  reason: string | null
  createdAt: Date
}

/** The event of one table row, exactly as the trigger announces it. */
export function eventFromRow(r: SubmissionEventRow): SubmissionEventNotification {
  return {
    id: r.id,
    submissionId: r.submissionId,
    userId: r.userId,
    from: r.fromStatus,
    to: r.toStatus,
    actor: r.actor,
    reason: r.reason,
    at: r.createdAt.toISOString(),
  }
}

/** What a client receives over SSE: the event without the owner's id. */
export function toWireEvent(e: SubmissionEvent): SubmissionEvent {
  return { id: e.id, submissionId: e.submissionId, from: e.from, to: e.to, actor: e.actor, reason: e.reason, at: e.at }
}
