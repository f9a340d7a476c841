import { useState } from 'react'
import { asProblem, type ShownProblem } from '../../api/problem'
import { ProblemAlert } from '../../components/ProblemAlert'
import { Empty, LoadFailed, Loading } from '../../components/States'
import { useApiQuery } from '../../hooks/useApiQuery'
import { ageOf, skillLabel } from '../../labels'
import { Link, useRouter } from '../../routing/router'
import { useSession, useUser } from '../../session/SessionProvider'

/** The open reviews, high priority first, then oldest (the API's order), and "claim the next one". */
export function ReviewQueuePage() {
  const { authed } = useSession()
  const me = useUser()
  const { navigate } = useRouter()
  const queue = useApiQuery((api) => api.v1.reviews.get({ query: { limit: 100 } }), [])
  const [problem, setProblem] = useState<ShownProblem | null>(null)
  const [note, setNote] = useState('')

  const claimNext = async () => {
    setProblem(null)
    setNote('')
    const res = await authed((api) => api.v1.reviews.claim.post())
    if (!res) return
    if (res.error) return setProblem(asProblem(res.error, res.response))
    // 200 with the claimed review, or 204 (no body) when nothing is claimable.
    const claimed = res.status === 204 ? null : res.data
    if (!claimed) {
      setNote('Nothing to claim: the queue is empty or every review is claimed.')
      return queue.reload()
    }
    navigate(`/reviews/${claimed.submissionId}`)
  }

  return (
    <section className="card" aria-labelledby="queue-title">
      <div className="section-head">
        <h2 id="queue-title">Open reviews</h2>
        <button type="button" className="primary" onClick={() => void claimNext()}>
          Claim next
        </button>
      </div>
      <p className="hint" aria-live="polite">
        {note}
      </p>
      <ProblemAlert problem={problem} />
      {queue.loading && !queue.data ? (
        <Loading what="the queue" />
      ) : queue.problem ? (
        <LoadFailed problem={queue.problem} retry={queue.reload} />
      ) : queue.data!.items.length === 0 ? (
        <Empty>The queue is empty. Well done.</Empty>
      ) : (
        <ul className="queue">
          {queue.data!.items.map((r) => (
            <li key={r.submissionId} data-priority={r.priority} data-submission={r.submissionId}>
              <span className={`priority priority-${r.priority}`}>{r.priority}</span>
              <span className="queue-what">
                {skillLabel(r.submission.skill)} · {r.reason.split(',').join(', ').replaceAll('_', ' ')}
              </span>
              <span className="queue-age">waiting {ageOf(r.createdAt)}</span>
              <span className="queue-claim">{r.reviewerId ? (r.reviewerId === me.id ? 'claimed by you' : 'claimed') : 'unclaimed'}</span>
              <Link to={`/reviews/${r.submissionId}`} aria-label={`Open the ${r.priority} priority review waiting ${ageOf(r.createdAt)}`}>
                Open
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
