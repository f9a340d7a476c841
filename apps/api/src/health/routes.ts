import { Elysia } from 'elysia'
import type { AppDeps } from '../deps'

/** Liveness says the process answers; readiness says its dependencies do. */
export const healthRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'health' })
    .get('/healthz', () => ({ status: 'ok' as const }), { detail: { tags: ['ops'], summary: 'Liveness' } })
    .get(
      '/readyz',
      async ({ set }) => {
        const [database, redis] = await Promise.all([
          deps.sql`select 1`.then(
            () => true,
            () => false,
          ),
          deps.redis.ping(),
        ])
        // Redis down degrades the API (queueing waits for the reconciler) but PostgreSQL down stops it.
        set.status = database ? 200 : 503
        return { status: database ? (redis ? 'ready' : 'degraded') : 'unavailable', checks: { database, redis } }
      },
      { detail: { tags: ['ops'], summary: 'Readiness: PostgreSQL and Redis' } },
    )
