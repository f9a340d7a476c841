import { Elysia } from 'elysia'
import { z } from 'zod'
import { CreateSubmissionBody, Problem, Submission } from '@vstep/contracts'
import { authGuard } from '../auth/guard'
import type { AppDeps } from '../deps'
import { resumePoint, streamEvents } from '../events/stream'
import { createSubmission, getSubmission, readableSubmissionRow } from './service'

const IdParams = z.object({ id: z.uuid() })

export const submissionRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'submissions', prefix: '/v1/submissions' })
    .use(authGuard(deps))
    .post(
      '/',
      async ({ body, user, set }) => {
        set.status = 202
        return createSubmission(deps, user, body)
      },
      {
        auth: true,
        body: CreateSubmissionBody,
        response: { 202: Submission, 401: Problem, 422: Problem },
        detail: { tags: ['submissions'], summary: 'Submit a text answer for grading' },
      },
    )
    .get('/:id', ({ params, user }) => getSubmission(deps, user, params.id), {
      auth: true,
      params: IdParams,
      response: { 200: Submission, 404: Problem },
      detail: { tags: ['submissions'], summary: 'One submission with its grades' },
    })
    .get(
      '/:id/events',
      async function* ({ params, user, headers, query, request, server }) {
        await readableSubmissionRow(deps, user, params.id)
        // SSE streams are long-lived by design; Bun's idle timeout must not cut them.
        server?.timeout(request, 0)
        yield* streamEvents({
          db: deps.db,
          hub: deps.events,
          scope: { kind: 'submission', id: params.id },
          afterId: resumePoint(headers['last-event-id'], query.since),
          heartbeatMs: deps.config.SSE_HEARTBEAT_MS,
          signal: request.signal,
          isLast: (e) => e.to === 'completed',
        })
      },
      {
        auth: true,
        params: IdParams,
        query: z.object({ since: z.coerce.number().int().min(0).optional() }),
        detail: {
          tags: ['live'],
          summary: 'Status changes of one submission (Server-Sent Events)',
          description:
            'Sends `status` events (id = event id) from the start, or after `Last-Event-ID` / `?since=`, then live ones; `ping` every SSE_HEARTBEAT_MS. Ends after `completed`.',
        },
      },
    )
