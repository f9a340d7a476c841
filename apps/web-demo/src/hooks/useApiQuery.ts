import { useCallback, useEffect, useRef, useState } from 'react'
import type { Client } from '../api/client'
import { asProblem, type EdenFailure, type ShownProblem } from '../api/problem'
import { useSession } from '../session/SessionProvider'

type EdenResult = { data: unknown; error: EdenFailure | null; response: Response }

export type Query<T> = { data: T | null; problem: ShownProblem | null; loading: boolean; reload: () => void }

/**
 * Loads one API resource through the session (401 → one refresh and a retry) and keeps the
 * loading / error / data states a page renders. `key` changes reload it; nothing loads while
 * `enabled` is false (a query that needs another one's answer).
 */
export function useApiQuery<R extends EdenResult>(
  load: (api: Client) => Promise<R>,
  key: readonly unknown[],
  enabled = true,
): Query<NonNullable<R['data']>> {
  const { authed } = useSession()
  const [state, setState] = useState<{ data: NonNullable<R['data']> | null; problem: ShownProblem | null; loading: boolean }>({
    data: null,
    problem: null,
    loading: true,
  })
  const [generation, setGeneration] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load

  useEffect(() => {
    if (!enabled) return
    let live = true
    setState((s) => ({ ...s, loading: true }))
    void authed((api) => loadRef.current(api)).then((res) => {
      if (!live || !res) return
      if (res.error) setState({ data: null, problem: asProblem(res.error, res.response), loading: false })
      else setState({ data: res.data as NonNullable<R['data']>, problem: null, loading: false })
    })
    return () => {
      live = false
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` is the dependency list
  }, [authed, generation, enabled, ...key])

  const reload = useCallback(() => setGeneration((g) => g + 1), [])
  return { ...state, reload }
}
