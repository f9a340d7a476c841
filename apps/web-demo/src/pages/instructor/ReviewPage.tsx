import type { Criterion, ReviewDetail } from '@vstep/contracts'
import { useState, type FormEvent } from 'react'
import { asProblem, type ShownProblem } from '../../api/problem'
import { Field } from '../../components/Field'
import { ProblemAlert } from '../../components/ProblemAlert'
import { LoadFailed, Loading } from '../../components/States'
import { useApiQuery } from '../../hooks/useApiQuery'
import { ageOf, cefrLabel, CRITERIA_BY_SKILL, criterionLabel, skillLabel } from '../../labels'
import { Link } from '../../routing/router'
import { useSession, useUser } from '../../session/SessionProvider'

/**
 * One review: claim or release it, read the answer beside the AI draft, and record the final grade
 * (each criterion of the skill 0–10 in 0.5 steps, with feedback, and a comment for the learner).
 */
export function ReviewPage({ submissionId }: { submissionId: string }) {
  const { authed } = useSession()
  const me = useUser()
  const review = useApiQuery((api) => api.v1.reviews({ id: submissionId }).get(), [submissionId])
  const [current, setCurrent] = useState<ReviewDetail | null>(null)
  const [problem, setProblem] = useState<ShownProblem | null>(null)
  const [busy, setBusy] = useState(false)

  if (review.loading && !review.data) return <Loading what="the review" />
  if (!review.data) return <LoadFailed problem={review.problem!} retry={review.reload} />
  const r = current?.submissionId === submissionId ? current : review.data
  const mine = r.reviewerId === me.id && !r.completedAt

  const act = async (which: 'claim' | 'release') => {
    setBusy(true)
    setProblem(null)
    const res = await authed((api) =>
      which === 'claim' ? api.v1.reviews({ id: submissionId }).claim.post() : api.v1.reviews({ id: submissionId }).release.post(),
    )
    setBusy(false)
    if (!res) return
    if (res.error) return setProblem(asProblem(res.error, res.response))
    setCurrent(res.data)
  }

  return (
    <>
      <section className="card" aria-labelledby="review-title">
        <h2 id="review-title">
          {skillLabel(r.submission.skill)} review · <span className={`priority priority-${r.priority}`}>{r.priority}</span>
        </h2>
        <p className="hint">
          Why: {r.reason.split(',').join(', ').replaceAll('_', ' ')} · waiting {ageOf(r.createdAt)} ·{' '}
          <span id="claim-state" aria-live="polite">
            {r.completedAt
              ? 'completed'
              : r.reviewerId
                ? r.reviewerId === me.id
                  ? 'claimed by you'
                  : 'claimed by a colleague'
                : 'unclaimed'}
          </span>
        </p>
        <ProblemAlert problem={problem} />
        {!r.completedAt && (
          <p className="actions">
            {mine ? (
              <button type="button" className="secondary" onClick={() => void act('release')} disabled={busy}>
                Release
              </button>
            ) : (
              <button type="button" className="primary" onClick={() => void act('claim')} disabled={busy}>
                Claim
              </button>
            )}{' '}
            <Link to="/reviews">Back to the queue</Link>
          </p>
        )}
        <details className="prompt">
          <summary>Task prompt</summary>
          <p>{r.taskPrompt}</p>
        </details>
      </section>

      <div className="side-by-side">
        <section className="card" aria-labelledby="answer-heading">
          <h2 id="answer-heading">Learner's answer</h2>
          <p className="answer-text" id="review-answer">
            {r.answerText ?? 'No text (spoken answer).'}
          </p>
        </section>
        <section className="card" aria-labelledby="draft-heading">
          <h2 id="draft-heading">AI draft</h2>
          {r.aiGrade ? (
            <>
              <p>
                Overall <strong>{r.aiGrade.overall.toFixed(1)}</strong> ({cefrLabel(r.aiGrade.cefr)}) · confidence{' '}
                {r.aiGrade.confidence.toFixed(2)}
              </p>
              <ul className="draft">
                {r.aiGrade.criteria.map((c) => (
                  <li key={c.criterion}>
                    <strong>
                      {criterionLabel(c.criterion)} {c.score.toFixed(1)}
                    </strong>{' '}
                    {c.feedback}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p className="state empty">No AI draft: the AI could not grade this answer, or the task is teacher-graded.</p>
          )}
        </section>
      </div>

      {r.humanGrade ? (
        <section className="card" aria-labelledby="done-title" id="review-done">
          <h2 id="done-title">Final grade recorded</h2>
          <p>
            Overall <strong>{r.humanGrade.overall.toFixed(1)}</strong> ({cefrLabel(r.humanGrade.cefr)})
            {r.disagreement ? ' · differs from the AI by more than 0.5' : ''}
          </p>
          <Link to="/reviews">Back to the queue</Link>
        </section>
      ) : mine ? (
        <GradingForm review={r} onDone={setCurrent} />
      ) : null}
    </>
  )
}

/** The per-criterion form: each score 0–10 in 0.5 steps (prefilled from the AI draft), feedback, a comment. */
function GradingForm({ review, onDone }: { review: ReviewDetail; onDone: (r: ReviewDetail) => void }) {
  const { authed } = useSession()
  const criteria: readonly Criterion[] = CRITERIA_BY_SKILL[review.submission.skill]
  const [problem, setProblem] = useState<ShownProblem | null>(null)
  const [busy, setBusy] = useState(false)

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const data = new FormData(e.currentTarget)
    const body = {
      criteria: criteria.map((criterion) => ({
        criterion,
        score: Number(data.get(`score-${criterion}`)),
        feedback: String(data.get(`feedback-${criterion}`) ?? ''),
      })),
      comment: String(data.get('comment') ?? ''),
    }
    setBusy(true)
    setProblem(null)
    const res = await authed((api) => api.v1.reviews({ id: review.submissionId }).put(body))
    setBusy(false)
    if (!res) return
    if (res.error) return setProblem(asProblem(res.error, res.response))
    onDone(res.data)
  }

  const ai = (c: Criterion) => review.aiGrade?.criteria.find((x) => x.criterion === c)
  return (
    <section className="card" aria-labelledby="grade-title">
      <h2 id="grade-title">Your grade</h2>
      <form noValidate onSubmit={(e) => void submit(e)} className="grading-form">
        {criteria.map((c) => (
          <fieldset key={c} className="criterion-input">
            <legend>{criterionLabel(c)}</legend>
            <Field id={`score-${c}`} label={`${criterionLabel(c)} score (0–10)`}>
              {(a) => (
                <input
                  {...a}
                  name={`score-${c}`}
                  type="number"
                  min={0}
                  max={10}
                  step={0.5}
                  required
                  defaultValue={ai(c)?.score ?? ''}
                  inputMode="decimal"
                />
              )}
            </Field>
            <Field id={`feedback-${c}`} label={`${criterionLabel(c)} feedback`}>
              {(a) => <textarea {...a} name={`feedback-${c}`} rows={2} />}
            </Field>
          </fieldset>
        ))}
        <Field id="comment" label="Comment for the learner">
          {(a) => <textarea {...a} name="comment" rows={3} />}
        </Field>
        <ProblemAlert problem={problem} />
        <button type="submit" className="primary" disabled={busy}>
          Submit final grade
        </button>
      </form>
    </section>
  )
}
