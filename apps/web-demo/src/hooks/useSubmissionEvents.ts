import type { SubmissionEvent } from '@vstep/contracts'
import { useEffect, useRef, useState } from 'react'
import { asProblem, describeProblem } from '../api/problem'
import { useSession } from '../session/SessionProvider'

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'gone' | 'stopped'

export type SubmissionEvents = {
  events: SubmissionEvent[]
  /** The latest status heard on the stream (null before the first event). */
  status: SubmissionEvent['to'] | null
  connection: Connection
  /** Why live updates stopped, when they did so on an error. */
  message: string | null
}

const MAX_FAILURES = 5

/**
 * Follows one submission's SSE stream (`GET /v1/submissions/:id/events`) through Eden, whose `data`
 * is an async generator of parsed events, for as long as the page is open. Eden neither reconnects
 * nor closes the connection when the loop is left, so the loop is driven by an AbortController
 * (closed on unmount and when `generation` changes, e.g. after a retry) and a dropped stream is
 * reopened with `?since=` the last event id.
 *
 * It does not stop at a final status: `failed` may be retried (here or by an admin's re-queue), and
 * a spot-check review of a `completed` submission arrives later as a `completed → completed` event
 * (reason `review`, docs/lifecycle.md). The server ends a submission's stream after each `completed`
 * it sends, so the hook reopens it from that event and waits for the next one. A 401 refreshes once
 * per connection attempt.
 */
export function useSubmissionEvents(submissionId: string, generation = 0): SubmissionEvents {
  const { api, refresh, expire } = useSession()
  const [state, setState] = useState<SubmissionEvents>({ events: [], status: null, connection: 'connecting', message: null })
  // The last event id heard, kept across reconnections and generations (a retry must not replay the old `failed`).
  const lastIdRef = useRef<{ submissionId: string; id: number }>({ submissionId, id: 0 })
  if (lastIdRef.current.submissionId !== submissionId) lastIdRef.current = { submissionId, id: 0 }

  useEffect(() => {
    const controller = new AbortController()
    const { signal } = controller
    const last = lastIdRef.current
    let failures = 0
    let refreshed = false
    const set = (patch: Partial<SubmissionEvents>) => {
      if (!signal.aborted) setState((s) => ({ ...s, ...patch }))
    }
    const add = (event: SubmissionEvent) => {
      if (signal.aborted) return
      setState((s) => (s.events.some((e) => e.id === event.id) ? s : { ...s, events: [...s.events, event], status: event.to }))
    }
    setState((s) => ({ ...s, connection: 'connecting', message: null }))

    void (async () => {
      while (!signal.aborted) {
        set({ connection: failures ? 'reconnecting' : 'connecting' })
        const res = await api.v1
          .submissions({ id: submissionId })
          .events.get({ query: last.id ? { since: last.id } : {}, fetch: { signal } })
        if (signal.aborted) return
        if (res.error) {
          // The route declares its refusals (401, 404, 422, 429) as problems.
          if (res.error.status === 401) {
            if (refreshed || (await refresh()) !== true) return expire()
            refreshed = true
            continue
          }
          if (res.error.status === 404) return set({ connection: 'gone', message: 'This submission no longer exists.' })
          if (++failures > MAX_FAILURES)
            return set({
              connection: 'stopped',
              message: `Live updates unavailable: ${describeProblem(asProblem(res.error, res.response))}`,
            })
          await new Promise((r) => setTimeout(r, 1000 * failures))
          continue
        }
        // The server ends the stream right after a `completed` event: that end is expected.
        let endedAtCompleted = false
        try {
          for await (const message of res.data) {
            if (message.event === 'ready') {
              failures = 0
              refreshed = false
              set({ connection: 'live' })
            } else if (message.event === 'status') {
              last.id = Math.max(last.id, message.data.id)
              add(message.data)
              endedAtCompleted = message.data.to === 'completed'
            }
            // `ping` heartbeats keep the connection alive; nothing to show.
          }
        } catch (error) {
          if (signal.aborted) return
          endedAtCompleted = false
          console.warn('event stream dropped', error)
        }
        if (signal.aborted) return
        if (endedAtCompleted) {
          failures = 0
          continue // listen on, from the `completed` just heard
        }
        if (++failures > MAX_FAILURES)
          return set({ connection: 'stopped', message: 'Live updates stopped. Reload the page to check the result.' })
        await new Promise((r) => setTimeout(r, 500 * failures))
      }
    })()
    return () => controller.abort()
  }, [api, refresh, expire, submissionId, generation])

  return state
}
