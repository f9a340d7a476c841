import type { Task } from '@vstep/contracts'
import { useEffect, useMemo, useState } from 'react'
import { asProblem, type ShownProblem } from '../api/problem'
import { progressFetch } from '../api/upload'
import { formatClock, useCountdown } from '../hooks/useCountdown'
import { useRecorder } from '../hooks/useRecorder'
import { useRouter } from '../routing/router'
import { useSession } from '../session/SessionProvider'
import { ProblemAlert } from './ProblemAlert'

/**
 * A spoken answer: preparation countdown (the task's preparationSeconds; skippable), then the
 * speaking countdown (speakingSeconds; recording stops by itself at 0, or with Stop), playback,
 * record again, and an upload with progress: multipart `taskId` + `audio` on POST /v1/submissions.
 */
export function SpeakingRecorder({ task }: { task: Task }) {
  const { authed, clientWith } = useSession()
  const { navigate } = useRouter()
  const rec = useRecorder()
  const prepSeconds = task.preparationSeconds
  const speakSeconds = task.speakingSeconds ?? task.timeLimitMinutes * 60
  const prepLeft = useCountdown(prepSeconds, rec.phase === 'preparing' ? rec.phaseStartedAt : null)
  const speakLeft = useCountdown(speakSeconds, rec.phase === 'recording' ? rec.phaseStartedAt : null)
  const [progress, setProgress] = useState<number | null>(null)
  const [problem, setProblem] = useState<ShownProblem | null>(null)
  const idempotencyKey = useMemo(() => crypto.randomUUID(), [rec.recording])

  // Preparation over: speak. Speaking time over: stop.
  const { phase, record, stop } = rec
  useEffect(() => {
    if (phase === 'preparing' && prepLeft === 0) record()
  }, [phase, prepLeft, record])
  useEffect(() => {
    if (phase === 'recording' && speakLeft === 0) stop()
  }, [phase, speakLeft, stop])

  const upload = async () => {
    if (!rec.recording) return
    setProblem(null)
    setProgress(0)
    const file = new File([rec.recording], `answer.${rec.recording.type.includes('ogg') ? 'ogg' : 'webm'}`, { type: rec.recording.type })
    const client = clientWith({ fetcher: progressFetch((sent, total) => setProgress(Math.round((sent / total) * 100))) })
    // Eden sees the File and sends multipart/form-data; the route's `audio` accepts a Blob (so a File).
    const body = { taskId: task.id, audio: file }
    const res = await authed(() => client.v1.submissions.post(body, { headers: { 'idempotency-key': idempotencyKey } }))
    if (!res) return
    if (res.error) {
      setProgress(null)
      return setProblem(asProblem(res.error, res.response))
    }
    navigate(`/submissions/${res.data.id}`)
  }

  const elapsed = speakSeconds - speakLeft
  return (
    <section className="card recorder" aria-labelledby="recorder-title">
      <h2 id="recorder-title">Record your answer</h2>
      <p className="hint">
        {prepSeconds > 0 ? `${formatClock(prepSeconds)} to prepare, then ` : ''}
        {formatClock(speakSeconds)} to speak. Recording stops by itself when the time is up.
      </p>
      {rec.error && (
        <p className="problem" role="alert">
          {rec.error}
        </p>
      )}

      {rec.phase === 'idle' && (
        <p className="actions">
          <button type="button" className="primary" onClick={() => void rec.prepare()}>
            {prepSeconds > 0 ? 'Start preparation' : 'Start'}
          </button>
        </p>
      )}

      {rec.phase === 'preparing' && (
        <div>
          <p className="countdown" role="timer" aria-label="Preparation time left" id="prep-countdown">
            {formatClock(prepLeft)}
          </p>
          <p aria-live="polite">Prepare your answer. Recording starts when the countdown ends.</p>
          <button type="button" className="secondary" onClick={rec.record}>
            Start speaking now
          </button>
        </div>
      )}

      {rec.phase === 'recording' && (
        <div>
          <p className="countdown recording" role="timer" aria-label="Speaking time left" id="speak-countdown" data-elapsed={elapsed}>
            {formatClock(speakLeft)}
          </p>
          <p aria-live="polite">
            <span className="rec-dot" aria-hidden="true" /> Recording…
          </p>
          <button type="button" className="primary" onClick={rec.stop}>
            Stop recording
          </button>
        </div>
      )}

      {rec.phase === 'recorded' && rec.url && (
        <div>
          <p aria-live="polite">Recorded. Listen to it, then send it or record again.</p>
          {/* biome-ignore lint/a11y/useMediaCaption: the learner's own answer has no captions to offer */}
          <audio controls src={rec.url} aria-label="Your recording" />
          {progress !== null && (
            <p>
              <label htmlFor="upload-progress">Uploading</label>
              <progress id="upload-progress" max={100} value={progress}>
                {progress}%
              </progress>
              <span aria-live="polite"> {progress}%</span>
            </p>
          )}
          <ProblemAlert problem={problem} />
          <p className="actions">
            <button type="button" className="primary" onClick={() => void upload()} disabled={progress !== null}>
              Send for grading
            </button>
            <button type="button" className="secondary" onClick={rec.reset} disabled={progress !== null}>
              Record again
            </button>
          </p>
        </div>
      )}
    </section>
  )
}
