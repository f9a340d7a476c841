import { useApiQuery } from '../hooks/useApiQuery'
import { criterionLabel, partLabel, skillLabel } from '../labels'
import { Link } from '../routing/router'

/** "Practise next": `GET /v1/progress/next-task`, a task aimed at the learner's weakest criterion. */
export function PractiseNext() {
  const next = useApiQuery((api) => api.v1.progress['next-task'].get(), [])
  if (next.loading || next.problem || !next.data?.task) return null
  const { task, criterion, criterionMean } = next.data
  return (
    <section className="card practise-next" aria-labelledby="practise-next-title">
      <h2 id="practise-next-title">Practise next</h2>
      <p>
        {criterion ? (
          <>
            Your weakest criterion lately is <strong>{criterionLabel(criterion)}</strong> (average {criterionMean?.toFixed(1)}). This task
            works on it:
          </>
        ) : (
          <>Start with a short task to get your first score:</>
        )}
      </p>
      <p>
        <Link to={`/tasks/${task.id}`} className="button primary">
          {skillLabel(task.skill)} {partLabel(task.part)} · {task.title}
        </Link>
      </p>
    </section>
  )
}
