import type { Task } from '@vstep/contracts'
import { countWords } from '@vstep/contracts/words'
import { useMemo, useState, type FormEvent } from 'react'
import { asProblem, type ShownProblem } from '../api/problem'
import { formatClock, useCountdown } from '../hooks/useCountdown'
import { useDraft } from '../hooks/useDraft'
import { useRouter } from '../routing/router'
import { useSession, useUser } from '../session/SessionProvider'
import { Field } from './Field'
import { fieldError, ProblemAlert } from './ProblemAlert'

/**
 * The essay editor: live word count against the task's minimum (the API's own `countWords`), a
 * countdown of the task's time limit from the first keystroke, and the draft autosaved on this
 * device. Submitting sends `POST /v1/submissions` with an Idempotency-Key, so a double click or a
 * retry after a network error cannot create two submissions.
 */
export function WritingEditor({ task }: { task: Task }) {
  const user = useUser()
  const { authed } = useSession()
  const { navigate } = useRouter()
  const draft = useDraft(user.id, task.id)
  const [startedAt, setStartedAt] = useState<number | null>(null)
  const left = useCountdown(task.timeLimitMinutes * 60, startedAt)
  const [problem, setProblem] = useState<ShownProblem | null>(null)
  const [busy, setBusy] = useState(false)
  // One key per text: resubmitting the same text after a lost answer replays instead of duplicating.
  const idempotencyKey = useMemo(() => crypto.randomUUID(), [draft.text])

  const words = countWords(draft.text)
  const min = task.minWords
  const enough = min === 0 || words >= min

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setProblem(null)
    const res = await authed((api) =>
      api.v1.submissions.post({ taskId: task.id, answerText: draft.text }, { headers: { 'idempotency-key': idempotencyKey } }),
    )
    setBusy(false)
    if (!res) return
    if (res.error) return setProblem(asProblem(res.error, res.response))
    draft.clear()
    navigate(`/submissions/${res.data.id}`)
  }

  return (
    <section className="card" aria-labelledby="answer-title">
      <h2 id="answer-title">Write your answer</h2>
      <div className="editor-bar">
        <p role="timer" aria-live="off" className={`timer${startedAt !== null && left === 0 ? ' over' : ''}`} aria-label="Time left">
          {startedAt === null
            ? `${task.timeLimitMinutes}:00 · starts when you type`
            : left > 0
              ? `${formatClock(left)} left`
              : 'Time is up — you can still submit'}
        </p>
        <p className="saved" aria-live="polite">
          {draft.savedAt ? 'Draft saved on this device' : ''}
        </p>
      </div>
      <form noValidate onSubmit={(e) => void submit(e)}>
        <Field
          id="answer"
          label="Your answer"
          error={fieldError(problem, 'answerText')}
          hint={
            <span id="word-count" className={`word-count ${min > 0 ? (enough ? 'enough' : 'short') : ''}`} aria-live="polite">
              {min > 0 ? `${words} ${words === 1 ? 'word' : 'words'} · minimum ${min}` : `${words} words`}
            </span>
          }
        >
          {(a) => (
            <textarea
              {...a}
              name="answerText"
              rows={16}
              spellCheck
              value={draft.text}
              onChange={(e) => {
                setStartedAt((s) => s ?? Date.now())
                draft.setText(e.target.value)
              }}
            />
          )}
        </Field>
        <ProblemAlert problem={problem} placed={['answerText']} id="answer-problem" />
        <button type="submit" className="primary" disabled={busy || draft.text.trim() === ''}>
          Submit for grading
        </button>
      </form>
    </section>
  )
}
