import { describeProblem, type ShownProblem } from '../api/problem'

/**
 * A problem+json shown next to the form that caused it. Field errors that the form places under its
 * own fields are left out (`placed`); the rest are listed. 429 and 503 say how long to wait.
 */
export function ProblemAlert({ problem, placed = [], id }: { problem: ShownProblem | null; placed?: readonly string[]; id?: string }) {
  if (!problem) return null
  const unplaced = (problem.errors ?? []).filter((e) => !placed.includes(e.field))
  const waits = problem.status === 429 || (problem.status === 503 && !problem.network)
  return (
    <div className="problem" role="alert" id={id} data-status={problem.status}>
      <strong>{problem.title}</strong>
      <span className="detail">{waits ? describeProblem(problem) : problem.detail}</span>
      {unplaced.length > 0 && (
        <ul>
          {unplaced.map((e) => (
            <li key={e.field + e.message}>
              {e.field}: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

/** The message of one field from a problem's `errors[]`, if any. */
export const fieldError = (problem: ShownProblem | null, field: string) => problem?.errors?.find((e) => e.field === field)?.message
