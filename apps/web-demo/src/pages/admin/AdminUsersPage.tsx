import type { User, UserRole } from '@vstep/contracts'
import { type FormEvent, useState } from 'react'
import { asProblem, type ShownProblem } from '../../api/problem'
import { Field } from '../../components/Field'
import { ProblemAlert } from '../../components/ProblemAlert'
import { Empty } from '../../components/States'
import { formatDateTime } from '../../labels'
import { useSession } from '../../session/SessionProvider'
import { AdminNav } from './AdminNav'

const ROLES: UserRole[] = ['learner', 'instructor', 'admin']

type Search = { email: string; role: UserRole | '' }
type Found = { search: Search; items: User[]; nextCursor: string | null }

/**
 * Users and roles: find users by the start of their email, optionally of one role
 * (`GET /v1/admin/users`, a cursor page at a time: "More"), choose one and change the role
 * (`PATCH /v1/admin/users/:id/role`).
 */
export function AdminUsersPage() {
  const { authed } = useSession()
  const [found, setFound] = useState<Found | null>(null)
  const [searching, setSearching] = useState(false)
  const [user, setUser] = useState<User | null>(null)
  const [problem, setProblem] = useState<ShownProblem | null>(null)
  const [saved, setSaved] = useState('')

  const load = async (search: Search, cursor: string | null) => {
    setProblem(null)
    setSearching(true)
    const query = {
      ...(search.email ? { email: search.email } : {}),
      ...(search.role ? { role: search.role } : {}),
      ...(cursor ? { cursor } : {}),
      limit: 20,
    }
    const res = await authed((api) => api.v1.admin.users.get({ query }))
    setSearching(false)
    if (!res) return
    if (res.error) return setProblem(asProblem(res.error, res.response))
    const more = cursor && found ? found.items : []
    setFound({ search, items: [...more, ...res.data.items], nextCursor: res.data.nextCursor })
  }

  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const form = new FormData(e.currentTarget)
    setUser(null)
    setSaved('')
    void load({ email: String(form.get('email') ?? '').trim(), role: String(form.get('roleFilter') ?? '') as Search['role'] }, null)
  }

  const changeRole = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    if (!user) return
    const role = new FormData(e.currentTarget).get('role') as UserRole
    setProblem(null)
    const res = await authed((api) => api.v1.admin.users({ id: user.id }).role.patch({ role }))
    if (!res) return
    if (res.error) return setProblem(asProblem(res.error, res.response))
    const updated = res.data
    setUser(updated)
    setFound((f) => f && { ...f, items: f.items.map((u) => (u.id === updated.id ? updated : u)) })
    setSaved(`${updated.displayName} is now ${updated.role}.`)
  }

  return (
    <>
      <AdminNav />
      <section className="card" aria-labelledby="users-title">
        <h2 id="users-title">Find users</h2>
        <form noValidate onSubmit={search} className="inline-form" aria-label="Find users">
          <Field id="email" label="Email starts with" hint="Any case; leave empty to list everyone.">
            {(a) => <input {...a} name="email" type="search" autoComplete="off" maxLength={254} />}
          </Field>
          <Field id="roleFilter" label="Role filter">
            {(a) => (
              <select {...a} name="roleFilter" defaultValue="">
                <option value="">any role</option>
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <button type="submit" className="secondary" disabled={searching}>
            Search
          </button>
        </form>
        <ProblemAlert problem={problem} />
        {found &&
          (found.items.length === 0 ? (
            <Empty>No user matches.</Empty>
          ) : (
            <ul className="queue user-list" aria-label="Matching users">
              {found.items.map((u) => (
                <li key={u.id} data-user={u.id}>
                  <span className="queue-what">
                    <strong>{u.displayName}</strong> · {u.email}
                  </span>
                  <span className="queue-claim">{u.role}</span>
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Choose ${u.email}`}
                    onClick={() => {
                      setUser(u)
                      setSaved('')
                    }}
                  >
                    Choose
                  </button>
                </li>
              ))}
            </ul>
          ))}
        {found?.nextCursor && (
          <button type="button" className="secondary" disabled={searching} onClick={() => void load(found.search, found.nextCursor)}>
            More
          </button>
        )}
        {user && (
          <form noValidate onSubmit={(e) => void changeRole(e)} className="user-card" aria-label={`Role of ${user.displayName}`}>
            <p>
              <strong>{user.displayName}</strong> · {user.email} · since {formatDateTime(user.createdAt)}
            </p>
            <Field id="role" label="Role">
              {(a) => (
                <select {...a} name="role" defaultValue={user.role} key={`${user.id}:${user.role}`}>
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
