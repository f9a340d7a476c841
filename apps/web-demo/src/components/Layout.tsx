import { useEffect, useRef, type ReactNode } from 'react'
import { useOnline } from '../hooks/useOnline'
import { Link, useRouter } from '../routing/router'
import { useSession } from '../session/SessionProvider'

/** Header with the navigation for the user's role, the offline banner, and the page's <main>. */
export function Layout({ title, children }: { title: string; children: ReactNode }) {
  const { state, signOut } = useSession()
  const online = useOnline()
  const { path } = useRouter()
  const heading = useRef<HTMLHeadingElement>(null)
  // A route change moves focus to the new page's heading, so keyboard and screen reader users land there.
  useEffect(() => {
    document.title = `${title} · VSTEP practice`
    heading.current?.focus({ preventScroll: true })
  }, [path, title])
  const role = state.status === 'signedIn' ? state.user.role : null
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="wrap topbar-inner">
          <p className="brand">
            VSTEP <span>practice</span>
          </p>
          {state.status === 'signedIn' && (
            <nav aria-label="Main">
              <ul className="nav">
                <li>
                  <Link to="/">Tasks</Link>
                </li>
                <li>
                  <Link to="/history">History</Link>
                </li>
                {(role === 'instructor' || role === 'admin') && (
                  <li>
                    <Link to="/reviews">Reviews</Link>
                  </li>
                )}
                {role === 'admin' && (
                  <li>
                    <Link to="/admin/tasks">Admin</Link>
                  </li>
                )}
              </ul>
            </nav>
          )}
          {state.status === 'signedIn' && (
            <div className="account">
              <span>
                Signed in as <strong className="account-name">{state.user.displayName}</strong>
              </span>
              <button type="button" className="link" onClick={() => void signOut()}>
                Sign out
              </button>
            </div>
          )}
        </div>
      </header>
      {!online && (
        <p className="banner banner-warn" role="status">
          You are offline. Your draft is kept on this device; sending waits until you are back online.
        </p>
      )}
      <main id="main" className="wrap">
        <h1 ref={heading} tabIndex={-1} className="page-title">
          {title}
        </h1>
        {children}
      </main>
    </>
  )
}
