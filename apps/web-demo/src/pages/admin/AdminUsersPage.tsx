import type { User, UserRole } from '@vstep/contracts'
import { useState, type FormEvent } from 'react'
import { asProblem, type ShownProblem } from '../../api/problem'
import { Field } from '../../components/Field'
import { ProblemAlert } from '../../components/ProblemAlert'
import { formatDateTime } from '../../labels'
import { useSession } from '../../session/SessionProvider'
import { AdminNav } from './AdminNav'

const ROLES: UserRole[] = ['learner', 'instructor', 'admin']

/**
 * Users and roles: the API has no user list yet, so an admin looks a user up by id
 * (`GET /v1/admin/users/:id`) and changes the role (`PATCH /v1/admin/users/:id/role`).
 */
export function AdminUsersPage() {
  const { authed } = useSession()
  const [user, setUser] = useState<User | null>(null)
  const [problem, setProblem] = useState<ShownProblem | null>(null)
  const [saved, setSaved] = useState('')

  const lookUp = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const id = String(new FormData(e.currentTarget).get('userId') ?? '').trim()
    setProblem(null)
    setSaved('')
    const res = await authed((api) => api.v1.admin.users({ id }).get())
    if (!res) return
    if (res.error) {
      setUser(null)
      return setProblem(asProblem(res.error, res.response))
    }
    setUser(res.data)
  }

  const changeRole = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    if (!user) return
    const role = new FormData(e.currentTarget).get('role') as UserRole
    setProblem(null)
    const res = await authed((api) => api.v1.admin.users({ id: user.id }).role.patch({ role }))
    if (!res) return
    if (res.error) return setProblem(asProblem(res.error, res.response))
    setUser(res.data)
    setSaved(`${res.data.displayName} is now ${res.data.role}.`)
  }

  return (
    <>
      <AdminNav />
      <section className="card" aria-labelledby="users-title">
        <h2 id="users-title">Find a user</h2>
        <form noValidate onSubmit={(e) => void lookUp(e)} className="inline-form">
          <Field id="userId" label="User id" hint="The id shown in the user's submissions and reviews.">
            {(a) => <input {...a} name="userId" required autoComplete="off" />}
          </Field>
          <button type="submit" className="secondary">
            Look up
          </button>
        </form>
        <ProblemAlert problem={problem} />
        {user && (
          <form noValidate onSubmit={(e) => void changeRole(e)} className="user-card" aria-label={`Role of ${user.displayName}`}>
            <p>
              <strong>{user.displayName}</strong> · {user.email} · since {formatDateTime(user.createdAt)}
            </p>
            <Field id="role" label="Role">
              {(a) => (
                <select {...a} name="role" defaultValue={user.role} key={user.role}>
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="submit" className="primary">
              Save role
            </button>
            <p role="status">{saved}</p>
          </form>
        )}
      </section>
    </>
  )
}
