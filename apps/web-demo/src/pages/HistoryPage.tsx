import type { Skill, SubmissionStatus, SubmissionSummary } from '@vstep/contracts'
import { useEffect, useState } from 'react'
import { asProblem, type ShownProblem } from '../api/problem'
import { formatScore } from '../components/chart'
import { ProgressPanel } from '../components/ProgressPanel'
import { Empty, LoadFailed, Loading } from '../components/States'
import { ProblemAlert } from '../components/ProblemAlert'
import { useApiQuery } from '../hooks/useApiQuery'
import { formatDateTime, SHORT_STATUS, skillLabel } from '../labels'
import { Link } from '../routing/router'
import { useSession } from '../session/SessionProvider'

const STATUSES: SubmissionStatus[] = ['pending', 'processing', 'review_pending', 'completed', 'failed']

/** The learner's progress (estimate and a chart per skill) and their submissions, filtered, a page at a time. */
export function HistoryPage() {
  const { authed } = useSession()
  const progress = useApiQuery((api) => api.v1.progress.get(), [])
  const [skill, setSkill] = useState<Skill | ''>('')
  const [status, setStatus] = useState<SubmissionStatus | ''>('')
  const [items, setItems] = useState<SubmissionSummary[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [loading, setLoading] = useState(true)
  const [problem, setProblem] = useState<ShownProblem | null>(null)

  const load = async (after: string | null, replace: boolean) => {
    setLoading(true)
    setProblem(null)
    const query = { limit: 20, ...(skill ? { skill } : {}), ...(status ? { status } : {}), ...(after ? { cursor: after } : {}) }
    const res = await authed((api) => api.v1.submissions.get({ query }))
    setLoading(false)
    if (!res) return
    if (res.error) return setProblem(asProblem(res.error, res.response))
    setItems((old) => (replace ? res.data.items : [...old, ...res.data.items]))
    setCursor(res.data.nextCursor)
  }
  // Reload from the first page when a filter changes.
  useEffect(() => {
    void load(null, true)
  }, [skill, status])

  return (
    <>
      <section className="card" id="progress" aria-labelledby="progress-title" aria-busy={progress.loading}>
        <h2 id="progress-title">Your progress</h2>
        {progress.data ? (
          <ProgressPanel progress={progress.data} />
        ) : progress.problem ? (
          <LoadFailed problem={progress.problem} retry={progress.reload} />
        ) : (
          <Loading what="your progress" />
        )}
      </section>

      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title">Your submissions</h2>
        <div className="filters">
          <div className="field">
            <label htmlFor="filter-skill">Skill</label>
            <select id="filter-skill" value={skill} onChange={(e) => setSkill(e.target.value as Skill | '')}>
              <option value="">All skills</option>
              <option value="writing">Writing</option>
              <option value="speaking">Speaking</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="filter-status">Status</label>
            <select id="filter-status" value={status} onChange={(e) => setStatus(e.target.value as SubmissionStatus | '')}>
              <option value="">All statuses</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {SHORT_STATUS[s]}
                </option>
              ))}
            </select>
          </div>
        </div>
        {problem && <ProblemAlert problem={problem} />}
        {items.length === 0 && !loading && !problem ? (
          <Empty>No submissions match these filters.</Empty>
        ) : (
          <ul className="history-list" aria-busy={loading}>
            {items.map((s) => (
              <li key={s.id} data-status={s.status}>
                <Link to={`/submissions/${s.id}`}>
                  <span className="history-when">{formatDateTime(s.createdAt)}</span>
                  <span className="history-what">{skillLabel(s.skill)}</span>
                  <span className={`status-badge status-${s.status}`}>{SHORT_STATUS[s.status]}</span>
                  <span className="history-score">{s.overall === null ? '—' : formatScore(s.overall)}</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
        {loading && <Loading what="submissions" />}
        {cursor && !loading && (
          <button type="button" className="secondary" onClick={() => void load(cursor, false)}>
            Show older
          </button>
        )}
      </section>
    </>
  )
}
