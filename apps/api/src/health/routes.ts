import { Elysia } from 'elysia'
import { authenticate } from '../auth/guard'
import type { AppDeps } from '../deps'
import { hasMetricsToken } from '../metrics/access'
import { isDraining } from '../platform/drain'

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
 * A process shutting down answers 503 `draining` to everyone (platform/drain.ts).
 */
export const healthRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'health' })
    .get('/healthz', () => ({ status: 'ok' as const }), { detail: { tags: ['ops'], summary: 'Liveness' } })
    .get(
      '/readyz',
      async ({ set, request }) => {
        // Shutting down: not ready whatever the dependencies say, so no new request is routed here.
        if (isDraining(deps)) {
          set.status = 503
          return { status: 'draining' as const }
        }
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
          summary:
            'Readiness: ready / unavailable, or 503 draining once a graceful shutdown has begun; with the metrics token or an admin token, PostgreSQL and Redis checks',
          security: [{}, { metricsToken: [] }, { bearer: [] }],
          responses: {
            200: { description: 'ready' },
            503: { description: 'unavailable (PostgreSQL or Redis down) or draining (shutting down)' },
          },
        },
      },
    )
