import { Elysia } from 'elysia'
import { authenticate } from '../auth/guard'
import type { AppDeps } from '../deps'
import { hasMetricsToken } from '../metrics/access'

/** Operators see which dependency is down: the metrics token, or an admin's access token. */
async function mayReadDetails(deps: AppDeps, authorization: string | null): Promise<boolean> {
  if (!authorization) return false
  if (hasMetricsToken(deps.config, authorization)) return true
  const user = await authenticate(deps, authorization).catch(() => null)
  return user?.role === 'admin'
}

/**
 * Liveness says the process answers; readiness says its dependencies do. Anonymous callers learn
 * only ready / not ready (the status code and `status`); which dependency failed is for operators.
 */
export const healthRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'health' })
    .get('/healthz', () => ({ status: 'ok' as const }), { detail: { tags: ['ops'], summary: 'Liveness' } })
    .get(
      '/readyz',
      async ({ set, request }) => {
        const [database, redis] = await Promise.all([
          deps.sql`select 1`.then(
            () => true,
            () => false,
          ),
          deps.redis.ping(),
        ])
        // Redis down degrades the API (queueing waits for the reconciler) but PostgreSQL down stops it.
        set.status = database ? 200 : 503
        if (!(await mayReadDetails(deps, request.headers.get('authorization'))))
          return { status: database ? ('ready' as const) : ('unavailable' as const) }
        return { status: database ? (redis ? 'ready' : 'degraded') : 'unavailable', checks: { database, redis } }
      },
      {
        detail: {
          tags: ['ops'],
          summary: 'Readiness: ready / unavailable; with the metrics token or an admin token, PostgreSQL and Redis checks',
          security: [{}, { metricsToken: [] }, { bearer: [] }],
        },
      },
    )
