import { describe, expect, test } from 'bun:test'
import { sse } from 'elysia'
import { type SubmissionEvent, toWireEvent } from '@vstep/contracts'
import { statusFrame } from '../../src/events/stream'

/** events/stream.ts: one `status` frame per event, shared by every stream it reaches. */
describe('statusFrame', () => {
  const event = {
    id: 42,
    submissionId: '0b6f7c52-3f41-4d0c-9a57-1d2d6f7e8a90',
    userId: '7a1e0c3e-1a8f-4a51-8f0e-5c2b9d3e4f61',
    from: 'pending',
    to: 'processing',
    actor: 'worker',
    reason: 'grading "started"\nline two',
    at: '2026-11-30T08:00:00.000Z',
  } as SubmissionEvent

  test('is the exact text Elysia would write for the wire event (no userId), built once per event object', () => {
    const frame = statusFrame(event)
    const elysia = sse({ id: event.id, event: 'status', data: toWireEvent(event) }) as unknown as { toSSE: () => string }
    expect((frame as unknown as { toSSE: () => string }).toSSE()).toBe(elysia.toSSE())
    expect(JSON.stringify(frame.data)).not.toContain('userId')
    expect(statusFrame(event)).toBe(frame)
    expect(statusFrame({ ...event })).not.toBe(frame)
  })
})
