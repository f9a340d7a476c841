import { Elysia } from 'elysia'
import { Problem } from '@vstep/contracts'
import { authGuard } from '../auth/guard'
import type { AppDeps } from '../deps'
import { liveStream, StreamQuery } from './stream'

/** `GET /v1/events`: status changes of all the caller's submissions, one stream per client. */
export const eventRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'events' }).use(authGuard(deps)).get(
    '/v1/events',
    async function* (ctx) {
      yield* liveStream(deps, ctx, { kind: 'user', id: ctx.user.id })
    },
    {
      auth: true,
      query: StreamQuery,
      // The refusals before the first event (stream.ts liveStream), so Eden types them; the 200 is the SSE generator.
      response: { 401: Problem, 422: Problem, 429: Problem },
      detail: {
        tags: ['live'],
        summary: "Status changes of all the caller's submissions (Server-Sent Events)",
        description:
          'Without `Last-Event-ID` or `?since=` the stream starts with the full history of your submissions (at most 1000 events), then goes live. `ping` every SSE_HEARTBEAT_MS. `Last-Event-ID` / `?since=` must be an event id (422 otherwise). At most SSE_MAX_STREAMS_PER_USER streams per user (both SSE routes, all instances): one more is 429. The server ends the stream with an `end` event (`session_ended`, `token_expired`, `shutdown`) when the session ends, the access token expires or the instance stops; refresh if needed and reconnect with `Last-Event-ID`.',
      },
    },
  )
