import { Link } from '../../routing/router'

/** The admin area's sub-navigation. */
export function AdminNav() {
  return (
    <nav aria-label="Admin" className="subnav">
      <Link to="/admin/tasks">Tasks</Link>
      <Link to="/admin/users">Users and roles</Link>
      <Link to="/admin/dead-letters">Dead letters</Link>
    </nav>
  )
}
