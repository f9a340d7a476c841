import { Elysia } from 'elysia'
import { z } from 'zod'
import { authGuard } from '../auth/guard'
import type { AppDeps } from '../deps'
import { resumePoint, streamEvents } from './stream'

/** `GET /v1/events`: status changes of all the caller's submissions, one stream per client. */
export const eventRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'events' }).use(authGuard(deps)).get(
    '/v1/events',
    async function* ({ user, headers, query, request, server }) {
      server?.timeout(request, 0)
      yield* streamEvents({
        db: deps.db,
        hub: deps.events,
        scope: { kind: 'user', id: user.id },
        afterId: resumePoint(headers['last-event-id'], query.since),
        heartbeatMs: deps.config.SSE_HEARTBEAT_MS,
        signal: request.signal,
      })
    },
    {
      auth: true,
      query: z.object({ since: z.coerce.number().int().min(0).optional() }),
      detail: {
        tags: ['live'],
        summary: "Status changes of all the caller's submissions (Server-Sent Events)",
        description:
          'Without `Last-Event-ID` or `?since=` the stream starts with the full history of your submissions (at most 1000 events), then goes live. `ping` every SSE_HEARTBEAT_MS.',
      },
    },
  )
