import type { UserRole } from '@vstep/contracts'
import type { ReactNode } from 'react'
import { Layout } from './components/Layout'
import { AdminTasksPage } from './pages/admin/AdminTasksPage'
import { AdminUsersPage } from './pages/admin/AdminUsersPage'
import { DeadLettersPage } from './pages/admin/DeadLettersPage'
import { AuthPage } from './pages/AuthPage'
import { CataloguePage } from './pages/CataloguePage'
import { HistoryPage } from './pages/HistoryPage'
import { ReviewPage } from './pages/instructor/ReviewPage'
import { ReviewQueuePage } from './pages/instructor/ReviewQueuePage'
import { SubmissionPage } from './pages/SubmissionPage'
import { TaskPage } from './pages/TaskPage'
import { matchPath, useRouter } from './routing/router'
import { useSession } from './session/SessionProvider'

type Route = { path: string; title: string; roles?: readonly UserRole[]; render: (params: Record<string, string>) => ReactNode }

/** Every page of the app, by path. */
const ROUTES: Route[] = [
  { path: '/', title: 'Practice tasks', render: () => <CataloguePage /> },
  { path: '/tasks/:id', title: 'Practise a task', render: (p) => <TaskPage key={p.id} taskId={p.id!} /> },
  { path: '/submissions/:id', title: 'Your submission', render: (p) => <SubmissionPage key={p.id} submissionId={p.id!} /> },
  { path: '/history', title: 'History and progress', render: () => <HistoryPage /> },
  { path: '/reviews', title: 'Review queue', roles: ['instructor', 'admin'], render: () => <ReviewQueuePage /> },
  { path: '/reviews/:id', title: 'Review', roles: ['instructor', 'admin'], render: (p) => <ReviewPage key={p.id} submissionId={p.id!} /> },
  { path: '/admin/tasks', title: 'Task catalogue', roles: ['admin'], render: () => <AdminTasksPage /> },
  { path: '/admin/users', title: 'Users and roles', roles: ['admin'], render: () => <AdminUsersPage /> },
  { path: '/admin/dead-letters', title: 'Dead letters', roles: ['admin'], render: () => <DeadLettersPage /> },
]

export function App() {
  const { state } = useSession()
  const { path } = useRouter()
  if (state.status === 'loading') {
    return (
      <Layout title="VSTEP practice">
        <p className="state loading" role="status">
          Restoring your session…
        </p>
      </Layout>
    )
  }
  if (state.status === 'signedOut') {
    return (
      <Layout title="Sign in to practise">
        <AuthPage notice={state.notice} />
      </Layout>
    )
  }
  for (const route of ROUTES) {
    const params = matchPath(route.path, path)
    if (!params) continue
    if (route.roles && !route.roles.includes(state.user.role)) {
      return (
        <Layout title="Not allowed">
          <p className="state empty">This page is for {route.roles.join(' and ')} accounts.</p>
        </Layout>
      )
    }
    return <Layout title={route.title}>{route.render(params)}</Layout>
  }
  return (
    <Layout title="Page not found">
      <p className="state empty">There is no page at {path}.</p>
    </Layout>
  )
}
