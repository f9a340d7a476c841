import { SpeakingRecorder } from '../components/SpeakingRecorder'
import { LoadFailed, Loading } from '../components/States'
import { WritingEditor } from '../components/WritingEditor'
import { useApiQuery } from '../hooks/useApiQuery'
import { partLabel, skillLabel } from '../labels'

/** One task: its prompt, then the writing editor or the speaking recorder. */
export function TaskPage({ taskId }: { taskId: string }) {
  const task = useApiQuery((api) => api.v1.tasks({ id: taskId }).get(), [taskId])
  if (task.loading && !task.data) return <Loading what="the task" />
  if (task.problem || !task.data) return <LoadFailed problem={task.problem!} retry={task.reload} />
  const t = task.data
  return (
    <>
      <section className="card task" aria-labelledby="task-title">
        <h2 id="task-title">
          {skillLabel(t.skill)} {partLabel(t.part)} · {t.title}
        </h2>
        <p className="task-meta" id="task-meta">
          {t.level}
          {t.skill === 'writing' ? ` · at least ${t.minWords} words` : ''} · {t.timeLimitMinutes} minutes
        </p>
        <p className="task-prompt" id="task-prompt">
          {t.prompt}
        </p>
      </section>
      {t.skill === 'writing' ? <WritingEditor task={t} /> : <SpeakingRecorder task={t} />}
    </>
  )
}
