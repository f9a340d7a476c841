import type { ReactNode } from 'react'
import type { ShownProblem } from '../api/problem'
import { ProblemAlert } from './ProblemAlert'

/** Loading, error and empty states of a page section, so every list says which one it is in. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status">
      Loading {what}…
    </p>
  )
}

export function LoadFailed({ problem, retry }: { problem: ShownProblem; retry: () => void }) {
  return (
    <div className="state failed">
      <ProblemAlert problem={problem} />
      <button type="button" className="secondary" onClick={retry}>
        Try again
      </button>
    </div>
  )
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>
}
