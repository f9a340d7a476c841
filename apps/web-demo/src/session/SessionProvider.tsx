import type { User } from '@vstep/contracts'
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { createClient, type Client, type ClientExtras } from '../api/client'
import { asProblem, type EdenFailure, type ShownProblem } from '../api/problem'

/**
 * The web session of docs/auth.md: the access token lives only in a ref of this provider (no
 * storage); the refresh token is the API's httpOnly `vstep_refresh` cookie, which scripts cannot
 * read. On load `POST /v1/auth/refresh` (cookie, no body) restores the session; every call made
 * through `authed` that gets a 401 refreshes once (shared by concurrent callers) and retries.
 */
export type SessionState = { status: 'loading' } | { status: 'signedOut'; notice: ShownProblem | null } | { status: 'signedIn'; user: User }

/** What every Eden call resolves to, as far as the 401 handling needs to know. */
type ApiResult = { error: EdenFailure | null }

type RefreshOutcome = true | false | ShownProblem

export type Session = {
  state: SessionState
  api: Client
  /** Another typed client on the same session (same token), e.g. with an upload fetcher. */
  clientWith: (extra: ClientExtras) => Client
  /** Runs an authenticated call; null when the session ended (the sign-in form is showing). */
  authed: <R extends ApiResult>(call: (api: Client) => Promise<R>) => Promise<R | null>
  /** One cookie refresh (shared); used by the event stream when it (re)connects after a 401. */
  refresh: () => Promise<RefreshOutcome>
  signIn: (email: string, password: string) => Promise<ShownProblem | null>
  signUp: (email: string, password: string, displayName: string) => Promise<ShownProblem | null>
  signOut: () => Promise<void>
  /** Ends the session in this page with a "Session expired" notice. */
  expire: () => void
}

const SessionContext = createContext<Session | null>(null)

export function useSession(): Session {
  const session = useContext(SessionContext)
  if (!session) throw new Error('useSession outside <SessionProvider>')
  return session
}

/** The signed-in user; only for pages behind <RequireRole>. */
export function useUser(): User {
  const { state } = useSession()
  if (state.status !== 'signedIn') throw new Error('useUser while signed out')
  return state.user
}

const EXPIRED: ShownProblem = { type: 'about:blank', title: 'Session expired', status: 401, detail: 'Please sign in again.' }

export function SessionProvider({ apiUrl, children }: { apiUrl: string; children: ReactNode }) {
  const token = useRef<string | null>(null)
  const api = useMemo(() => createClient(apiUrl, () => token.current), [apiUrl])
  const clientWith = useCallback((extra: ClientExtras) => createClient(apiUrl, () => token.current, extra), [apiUrl])
  const [state, setState] = useState<SessionState>({ status: 'loading' })
  const refreshing = useRef<Promise<RefreshOutcome> | null>(null)

  const expire = useCallback(() => {
    token.current = null
    setState({ status: 'signedOut', notice: EXPIRED })
  }, [])

  const refresh = useCallback((): Promise<RefreshOutcome> => {
    refreshing.current ??= (async () => {
      try {
        const res = await api.v1.auth.refresh.post()
        if (res.error) {
          token.current = null
          const status = Number(res.error.status)
          return status === 401 || status === 403 ? false : asProblem(res.error, res.response)
        }
        token.current = res.data.accessToken
        return true
      } finally {
        refreshing.current = null
      }
    })()
    return refreshing.current
  }, [api])

  const authed = useCallback(
    async <R extends ApiResult>(call: (api: Client) => Promise<R>): Promise<R | null> => {
      const first = await call(api)
      if (!first.error || Number(first.error.status) !== 401) return first
      if ((await refresh()) !== true) {
        expire()
        return null
      }
      const second = await call(api)
      if (second.error && Number(second.error.status) === 401) {
        expire()
        return null
      }
      return second
    },
    [api, refresh, expire],
  )

  // On load: the cookie (if the browser has one for the API) gets a new access token and the user.
  useEffect(() => {
    let live = true
    void (async () => {
      const outcome = await refresh()
      if (!live) return
      if (outcome !== true) return setState({ status: 'signedOut', notice: outcome === false ? null : outcome })
      const me = await authed((a) => a.v1.me.get())
      if (!live || !me) return
      if (me.error) return setState({ status: 'signedOut', notice: asProblem(me.error, me.response) })
      setState({ status: 'signedIn', user: me.data })
    })()
    return () => {
      live = false
    }
  }, [refresh, authed])

  const signIn = useCallback(
    async (email: string, password: string) => {
      // `client: 'web'`: the refresh token comes back as the httpOnly cookie, not in the JSON.
      const login = await api.v1.auth.login.post({ email, password, client: 'web' })
      if (login.error) return asProblem(login.error, login.response)
      token.current = login.data.accessToken
      setState({ status: 'signedIn', user: login.data.user })
      return null
    },
    [api],
  )

  const signUp = useCallback(
    async (email: string, password: string, displayName: string) => {
      const reg = await api.v1.auth.register.post({ email, password, displayName })
      if (reg.error) return asProblem(reg.error, reg.response)
      return signIn(email, password)
    },
    [api, signIn],
  )

  const signOut = useCallback(async () => {
    // The cookie identifies the session; the API ends it and clears the cookie.
    const res = await api.v1.auth.logout.post()
    if (res.error) console.warn('sign-out failed', asProblem(res.error))
    token.current = null
    setState({ status: 'signedOut', notice: null })
  }, [api])

  const value = useMemo<Session>(
    () => ({ state, api, clientWith, authed, refresh, signIn, signUp, signOut, expire }),
    [state, api, clientWith, authed, refresh, signIn, signUp, signOut, expire],
  )
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}
