import { useState } from 'react'
import { asProblem, type ShownProblem } from '../../api/problem'
import { ProblemAlert } from '../../components/ProblemAlert'
import { Empty, LoadFailed, Loading } from '../../components/States'
import { useApiQuery } from '../../hooks/useApiQuery'
import { failureReason, formatDateTime } from '../../labels'
import { useSession } from '../../session/SessionProvider'
import { AdminNav } from './AdminNav'

/**
 * Dead letters: submissions the grading providers gave up on (`GET /v1/admin/dead-letters`), each
 * re-queued on its own or all at once once the provider is back (failed → pending, a fresh job).
 */
export function DeadLettersPage() {
  const { authed } = useSession()
  const [include, setInclude] = useState<'open' | 'all'>('open')
  const list = useApiQuery((api) => api.v1.admin['dead-letters'].get({ query: { include } }), [include])
  const [problem, setProblem] = useState<ShownProblem | null>(null)
  const [note, setNote] = useState('')

  const requeue = async (id: string | null) => {
    setProblem(null)
    setNote('')
    if (id) {
      const res = await authed((api) => api.v1.admin['dead-letters']({ id }).requeue.post())
      if (!res) return
      if (res.error) return setProblem(asProblem(res.error, res.response))
      setNote('Re-queued: the submission is pending again.')
    } else {
      const res = await authed((api) => api.v1.admin['dead-letters'].requeue.post())
      if (!res) return
      if (res.error) return setProblem(asProblem(res.error, res.response))
      setNote(`Re-queued ${res.data.requeued}; skipped ${res.data.skipped} no longer failed.`)
    }
    list.reload()
  }

  return (
    <>
      <AdminNav />
      <section className="card" aria-labelledby="dead-title">
        <div className="section-head">
          <h2 id="dead-title">Dead letters</h2>
          <button type="button" className="secondary" onClick={() => void requeue(null)}>
            Re-queue all open
          </button>
        </div>
        <div className="field">
          <label htmlFor="dead-include">Show</label>
          <select id="dead-include" value={include} onChange={(e) => setInclude(e.target.value as 'open' | 'all')}>
            <option value="open">Open only</option>
            <option value="all">Open and re-queued</option>
          </select>
        </div>
        <p className="hint" role="status">
          {note}
        </p>
        <ProblemAlert problem={problem} />
        {list.loading && !list.data ? (
          <Loading what="dead letters" />
        ) : list.problem ? (
          <LoadFailed problem={list.problem} retry={list.reload} />
        ) : list.data!.items.length === 0 ? (
          <Empty>No dead letters: every accepted submission was graded or is on its way.</Empty>
        ) : (
          <ul className="queue">
            {list.data!.items.map((d) => (
              <li key={d.id} data-dead-letter={d.id} data-submission={d.submissionId}>
                <span className="queue-what">
                  <strong>{d.provider}</strong> · {failureReason(d.reason)} · {d.attempts} attempts
                  <br />
                  <span className="hint">{d.lastError}</span>
                </span>
                <span className="queue-age">{formatDateTime(d.createdAt)}</span>
                <span className="queue-claim">submission {d.submissionStatus}</span>
                {d.requeuedAt ? (
                  <span className="queue-claim">re-queued {formatDateTime(d.requeuedAt)}</span>
                ) : (
                  <button
                    type="button"
                    className="link"
                    onClick={() => void requeue(d.id)}
                    aria-label={`Re-queue the submission of ${formatDateTime(d.createdAt)}`}
                  >
                    Re-queue
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  )
}
