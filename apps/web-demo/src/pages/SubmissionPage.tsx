import { useEffect, useState } from 'react'
import { asProblem, describeProblem, type ShownProblem } from '../api/problem'
import { ProblemAlert } from '../components/ProblemAlert'
import { GradeView } from '../components/GradeView'
import { RecordingPlayer } from '../components/RecordingPlayer'
import { LoadFailed, Loading } from '../components/States'
import { StatusTimeline } from '../components/StatusTimeline'
import { useApiQuery } from '../hooks/useApiQuery'
import { useSubmissionEvents, type Connection } from '../hooks/useSubmissionEvents'
import { failureReason, partLabel, SHORT_STATUS, skillLabel } from '../labels'
import { Link } from '../routing/router'
import { useSession } from '../session/SessionProvider'

const CONNECTION_TEXT: Record<Connection, string> = {
  connecting: 'Connecting to live updates…',
  reconnecting: 'Reconnecting to live updates…',
  live: 'Live: updates appear as the grader works.',
  gone: 'This submission no longer exists.',
  stopped: 'Live updates stopped.',
}

/**
 * One submission, live: the status follows the SSE stream (pending → processing → completed, or
 * failed with its reason and a retry, or review_pending with what happens next); the grade is
 * fetched when the status settles. An instructor's review completes it on this open page, and a
 * later spot-check review of a completed result replaces the grade shown, also live.
 */
export function SubmissionPage({ submissionId }: { submissionId: string }) {
  const { authed, api } = useSession()
  const [generation, setGeneration] = useState(0)
  const live = useSubmissionEvents(submissionId, generation)
  const detail = useApiQuery((a) => a.v1.submissions({ id: submissionId }).get(), [submissionId])
  const task = useApiQuery((a) => a.v1.tasks({ id: detail.data?.taskId ?? '' }).get(), [detail.data?.taskId], Boolean(detail.data?.taskId))
  const [retryProblem, setRetryProblem] = useState<ShownProblem | null>(null)
  const [retrying, setRetrying] = useState(false)

  // The stream heard a change: read the submission again (grade, error code, review). Keyed by the
  // event, not the status: a spot check's `completed → completed` brings the teacher's grade.
  const { reload } = detail
  const lastEventId = live.events.at(-1)?.id
  useEffect(() => {
    if (lastEventId !== undefined) reload()
  }, [lastEventId, reload])

  if (detail.loading && !detail.data) return <Loading what="your submission" />
  if (!detail.data) return <LoadFailed problem={detail.problem!} retry={detail.reload} />
  const s = detail.data
  // The stream is ahead of the last read until the reload lands.
  const status = live.status ?? s.status
  const settled = status === s.status

  const retry = async () => {
    setRetrying(true)
    setRetryProblem(null)
    const res = await authed(() => api.v1.submissions({ id: submissionId }).retry.post())
    setRetrying(false)
    if (!res) return
    if (res.error) return setRetryProblem(asProblem(res.error, res.response))
    setGeneration((g) => g + 1) // follow the stream again, from the last event heard
    detail.reload()
  }

  const t = task.data && task.data.id === s.taskId ? task.data : null
  return (
    <>
      <section className="card" aria-labelledby="submission-title">
        <h2 id="submission-title">
          {t ? `${skillLabel(t.skill)} ${partLabel(t.part)} · ${t.title}` : skillLabel(s.skill)}
          {s.skill === 'writing' ? ` · ${s.wordCount} words` : ''}
        </h2>
        <p className="status-line" role="status" aria-live="polite">
          Status:{' '}
          <strong className={`status-badge status-${status}`} data-status={status}>
            {SHORT_STATUS[status] ?? status}
          </strong>
        </p>
        <p className="connection" id="connection">
          {live.message ??
            (live.connection === 'live' && status === 'completed'
              ? 'Grading finished. This page stays live: if a teacher checks this result, their grade appears here.'
              : CONNECTION_TEXT[live.connection])}
        </p>
        <StatusTimeline events={live.events} />
        {s.audio && (
          <div className="recording">
            <h3>Your recording ({Math.round(s.audio.durationSeconds)} s)</h3>
            <RecordingPlayer submissionId={s.id} />
          </div>
        )}

        {status === 'review_pending' && (
          <div className="next-steps" id="review-note">
            <h3>What happens next</h3>
            <p>
              A teacher will grade this answer{s.reviewPriority ? ` (priority ${s.reviewPriority})` : ''}. You can leave this page: the
              result also appears in your history. If you keep it open, the score appears here as soon as the review is done.
            </p>
          </div>
        )}

        {status === 'failed' && settled && (
          <div className="failure" id="failure">
            <h3>Grading failed</h3>
            <p className="failure-reason">{failureReason(s.lastErrorCode)}</p>
            <p>Your answer is kept. You can send it for grading again.</p>
            <ProblemAlert problem={retryProblem} />
            {retryProblem?.status === 429 && <p className="hint">{describeProblem(retryProblem)}</p>}
            <button type="button" className="primary" onClick={() => void retry()} disabled={retrying}>
              Retry grading
            </button>
          </div>
        )}
      </section>

      {status === 'completed' && settled && <GradeView submission={s} />}
      {(status === 'completed' || status === 'failed') && (
        <p className="actions">
          <Link to={`/tasks/${s.taskId}`} className="button secondary">
            Try this task again
          </Link>{' '}
          <Link to="/history" className="button secondary">
            See your progress
          </Link>
        </p>
      )}
    </>
  )
}
