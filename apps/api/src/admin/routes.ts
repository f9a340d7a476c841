import { eq } from 'drizzle-orm'
import { Elysia } from 'elysia'
import { ListUsersQuery, Problem, User, UserPage } from '@vstep/contracts'
import { users } from '@vstep/db'
import { authGuard } from '../auth/guard'
import { IdParams, RoleBody } from '../auth/model'
import { toUser } from '../auth/service'
import type { AppDeps } from '../deps'
import { notFound } from '../platform/problem'
import { deadLetterRoutes } from './dead-letters'
import { bootstrapAdmin, setRole } from './service'
import { listUsers } from './users'
import { publishAuthChange } from '../auth/revocation'
import { errorFields, log } from '../platform/logger'

/** Runs BOOTSTRAP_ADMIN_EMAIL once when the server starts listening; logs, never throws. */
export async function runAdminBootstrap(deps: AppDeps): Promise<void> {
  const email = deps.config.BOOTSTRAP_ADMIN_EMAIL
  if (!email) return
  try {
    const outcome = await bootstrapAdmin(deps.db, email)
    if (outcome === 'promoted') log.info({ component: 'admin', email }, 'promoted to admin (BOOTSTRAP_ADMIN_EMAIL)')
    else if (outcome === 'no-such-user')
      log.warn({ component: 'admin', email }, 'BOOTSTRAP_ADMIN_EMAIL has no account yet; register it, then restart')
  } catch (error) {
    log.error({ component: 'admin', ...errorFields(error) }, 'admin bootstrap failed')
  }
}

export const adminRoutes = (deps: AppDeps) =>
  new Elysia()
    .use(authGuard(deps))
    .use(deadLetterRoutes(deps))
    .onStart(() => runAdminBootstrap(deps))
    .get('/v1/admin/users', ({ query }) => listUsers(deps.db, query), {
      auth: ['admin'],
      query: ListUsersQuery,
      response: { 200: UserPage, 401: Problem, 403: Problem, 422: Problem },
      detail: {
        tags: ['admin'],
        summary: 'Admin: find users',
        description:
          'Users whose email starts with `email` (any case), optionally only one `role`, ordered by email, `limit` (1–100, default 20) at a time; pass `nextCursor` as `cursor` for the next page. Admins only.',
      },
    })
    .get(
      '/v1/admin/users/:id',
      async ({ params }) => {
        const [row] = await deps.db.select().from(users).where(eq(users.id, params.id))
        if (!row) throw notFound('user')
        return toUser(row)
      },
      {
        auth: ['instructor', 'admin'],
        params: IdParams,
        response: { 200: User, 401: Problem, 403: Problem, 404: Problem },
        detail: { tags: ['admin'], summary: 'Staff: look up a user', description: 'Instructors and admins only; learners get 403.' },
      },
    )
    .patch(
      '/v1/admin/users/:id/role',
      async ({ params, body }) => {
        const user = await setRole(deps.db, params.id, body.role)
        if (!user) throw notFound('user')
        // Every instance drops its cached facts of this user's sessions: the new role applies on the next request.
        await publishAuthChange(deps, { kind: 'user', id: user.id })
        return user
      },
      {
        auth: ['admin'],
        params: IdParams,
        body: RoleBody,
        response: { 200: User, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem },
        detail: {
          tags: ['admin'],
          summary: "Admin: change a user's role",
          description:
            'Effective on the next request of that user. The last admin cannot be demoted (409). The first admin comes from BOOTSTRAP_ADMIN_EMAIL or scripts/create-admin.ts.',
        },
      },
    )
