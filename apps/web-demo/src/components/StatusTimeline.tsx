import type { SubmissionEvent } from '@vstep/contracts'
import { eventLabel, formatTime } from '../labels'
import { useUser } from '../session/SessionProvider'

/** The status changes heard on the stream, oldest first, with who made each one and why. */
export function StatusTimeline({ events }: { events: SubmissionEvent[] }) {
  const user = useUser()
  const actor = (a: string) => (a === `user:${user.id}` ? 'you' : a)
  return (
    <ol className="timeline" id="timeline" aria-label="Status timeline">
      {events.map((e) => (
        <li key={e.id} data-status={e.to} data-event-id={e.id}>
          <span className="status">{eventLabel(e)}</span>
          <span className="meta">
            {formatTime(e.at)} · by {actor(e.actor)}
            {e.reason ? ` · ${e.reason}` : ''}
          </span>
        </li>
      ))}
    </ol>
  )
}
