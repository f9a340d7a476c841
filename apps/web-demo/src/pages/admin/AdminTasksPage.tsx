import type { Task } from '@vstep/contracts'
import { useState, type FormEvent } from 'react'
import { asProblem, type ShownProblem } from '../../api/problem'
import { Field } from '../../components/Field'
import { fieldError, ProblemAlert } from '../../components/ProblemAlert'
import { LoadFailed, Loading } from '../../components/States'
import { useApiQuery } from '../../hooks/useApiQuery'
import { partLabel, skillLabel } from '../../labels'
import { useSession } from '../../session/SessionProvider'
import { AdminNav } from './AdminNav'

const PARTS = ['writing_task_1', 'writing_task_2', 'speaking_part_1', 'speaking_part_2', 'speaking_part_3'] as const
const MODES = ['auto', 'hybrid', 'human'] as const
const FIELDS = [
  'title',
  'prompt',
  'minWords',
  'timeLimitMinutes',
  'level',
  'gradingMode',
  'part',
  'preparationSeconds',
  'speakingSeconds',
] as const

/** The task catalogue for admins: pick a task and edit it, or add one (`POST/PATCH /v1/tasks`). */
export function AdminTasksPage() {
  const tasks = useApiQuery((api) => api.v1.tasks.get(), [])
  const [editing, setEditing] = useState<string | 'new' | null>(null)
  const [saved, setSaved] = useState('')

  if (tasks.loading && !tasks.data) return <Loading what="the catalogue" />
  if (!tasks.data) return <LoadFailed problem={tasks.problem!} retry={tasks.reload} />
  const task = tasks.data.items.find((t) => t.id === editing) ?? null

  return (
    <>
      <AdminNav />
      <section className="card" aria-labelledby="tasks-title">
        <div className="section-head">
          <h2 id="tasks-title">Tasks</h2>
          <button type="button" className="secondary" onClick={() => setEditing('new')}>
            New task
          </button>
        </div>
        <p className="hint" role="status">
          {saved}
        </p>
        <div className="table-scroll">
          <table className="admin-tasks">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Part</th>
                <th scope="col">Grading</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tasks.data.items.map((t) => (
                <tr key={t.id} data-task={t.id}>
                  <th scope="row">{t.title}</th>
                  <td>
                    {skillLabel(t.skill)} {partLabel(t.part)}
                  </td>
                  <td>{t.gradingMode}</td>
                  <td>
                    <button type="button" className="link" onClick={() => setEditing(t.id)} aria-label={`Edit ${t.title}`}>
                      Edit
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {editing !== null && (
        <TaskForm
          key={editing}
          task={task}
          onSaved={(t) => {
            setSaved(`Saved “${t.title}”.`)
            setEditing(null)
            tasks.reload()
          }}
          onCancel={() => setEditing(null)}
        />
      )}
    </>
  )
}

function TaskForm({ task, onSaved, onCancel }: { task: Task | null; onSaved: (t: Task) => void; onCancel: () => void }) {
  const { authed } = useSession()
  const [problem, setProblem] = useState<ShownProblem | null>(null)
  const [busy, setBusy] = useState(false)

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const d = new FormData(e.currentTarget)
    const common = {
      title: String(d.get('title')),
      prompt: String(d.get('prompt')),
      minWords: Number(d.get('minWords')),
      timeLimitMinutes: Number(d.get('timeLimitMinutes')),
      level: String(d.get('level')),
      gradingMode: d.get('gradingMode') as (typeof MODES)[number],
    }
    setBusy(true)
    setProblem(null)
    // A new task names its part (and so its skill); an existing one keeps both.
    const part = (d.get('part') ?? task?.part ?? 'writing_task_2') as (typeof PARTS)[number]
    const skill = task?.skill ?? (part.startsWith('writing') ? 'writing' : 'speaking')
    const speaking = skill === 'speaking'
    // Speaking parts time the answer: preparation and speaking seconds (Writing keeps 0 and none).
    const timing = speaking
      ? { preparationSeconds: Number(d.get('preparationSeconds')), speakingSeconds: Number(d.get('speakingSeconds')) }
      : { preparationSeconds: 0, speakingSeconds: null }
    const res = task
      ? await authed((api) => api.v1.tasks({ id: task.id }).patch({ ...common, ...timing }))
      : await authed((api) => api.v1.tasks.post({ ...common, ...timing, part, skill }))
    setBusy(false)
    if (!res) return
    if (res.error) return setProblem(asProblem(res.error, res.response))
    onSaved(res.data)
  }

  return (
    <section className="card" aria-labelledby="task-form-title">
      <h2 id="task-form-title">{task ? `Edit “${task.title}”` : 'New task'}</h2>
      <form noValidate onSubmit={(e) => void submit(e)}>
        {!task && (
          <Field id="part" label="Part" error={fieldError(problem, 'part')}>
            {(a) => (
              <select {...a} name="part" defaultValue="writing_task_2">
                {PARTS.map((p) => (
                  <option key={p} value={p}>
                    {skillLabel(p.split('_')[0]!)} {partLabel(p)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Field id="title" label="Title" error={fieldError(problem, 'title')}>
          {(a) => <input {...a} name="title" defaultValue={task?.title ?? ''} required />}
        </Field>
        <Field id="prompt" label="Prompt" error={fieldError(problem, 'prompt')}>
          {(a) => <textarea {...a} name="prompt" rows={5} defaultValue={task?.prompt ?? ''} required />}
        </Field>
        <div className="row">
          <Field id="minWords" label="Minimum words" error={fieldError(problem, 'minWords')}>
            {(a) => <input {...a} name="minWords" type="number" min={0} max={2000} defaultValue={task?.minWords ?? 0} />}
          </Field>
          <Field id="timeLimitMinutes" label="Time limit (minutes)" error={fieldError(problem, 'timeLimitMinutes')}>
            {(a) => <input {...a} name="timeLimitMinutes" type="number" min={1} max={240} defaultValue={task?.timeLimitMinutes ?? 20} />}
          </Field>
          <Field id="level" label="Level" error={fieldError(problem, 'level')}>
            {(a) => <input {...a} name="level" defaultValue={task?.level ?? 'B1-C1'} />}
          </Field>
        </div>
        {(task === null || task.skill === 'speaking') && (
          <div className="row">
            <Field id="preparationSeconds" label="Preparation (seconds, speaking)" error={fieldError(problem, 'preparationSeconds')}>
              {(a) => (
                <input {...a} name="preparationSeconds" type="number" min={0} max={3600} defaultValue={task?.preparationSeconds ?? 60} />
              )}
            </Field>
            <Field id="speakingSeconds" label="Speaking time (seconds, speaking)" error={fieldError(problem, 'speakingSeconds')}>
              {(a) => <input {...a} name="speakingSeconds" type="number" min={1} max={3600} defaultValue={task?.speakingSeconds ?? 120} />}
            </Field>
          </div>
        )}
        <Field
          id="gradingMode"
          label="Grading mode"
          hint="auto: AI only · hybrid: AI, with a teacher when unsure · human: teacher only"
          error={fieldError(problem, 'gradingMode')}
        >
          {(a) => (
            <select {...a} name="gradingMode" defaultValue={task?.gradingMode ?? 'auto'}>
              {MODES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          )}
        </Field>
        <ProblemAlert problem={problem} placed={FIELDS} />
        <p className="actions">
          <button type="submit" className="primary" disabled={busy}>
            Save task
          </button>{' '}
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        </p>
      </form>
    </section>
  )
}
