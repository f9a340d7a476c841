import { Elysia } from 'elysia'
import { NO_CONTENT } from '../openapi/document'
import { z } from 'zod'
import { CreateSubmissionBody, isTerminalStatus, ListSubmissionsQuery, Problem, Submission, SubmissionPage } from '@vstep/contracts'
import { authGuard } from '../auth/guard'
import type { AppDeps } from '../deps'
import { liveStream, StreamQuery } from '../events/stream'
import { rateLimit, RateLimiter } from '../platform/rate-limit'
import { audioResponse, createAudioSubmission } from './audio'
import { UploadedAudio } from './multipart'
import { createSubmission, deleteSubmission, getSubmission, listSubmissions, readableSubmissionRow, retrySubmission } from './service'

const IdParams = z.object({ id: z.uuid() })
/**
 * One schema for both kinds of answer, so a JSON mistake still names its field: `answerText` (JSON)
 * or `audio` (an UploadedAudio the multipart reader made; JSON can never produce one), not both.
 */
const SubmissionBody = CreateSubmissionBody.extend({
  answerText: CreateSubmissionBody.shape.answerText.optional(),
  // `unknown` + a check, not z.instanceof: the OpenAPI document can describe it (a file part).
  // Only an UploadedAudio passes, but the declared type also names Blob (so File): Elysia gives the
  // handler and Eden one type, and a browser sends the recording as a File, which the body gate has
  // turned into an UploadedAudio by the time this runs. The handler tells them apart with instanceof.
  audio: z
    .unknown()
    .refine(
      (value): value is UploadedAudio | Blob | undefined => value === undefined || value instanceof UploadedAudio,
      'must be a recording file sent as multipart/form-data',
    )
    .meta({ description: 'the recording: a file part of a multipart/form-data body', format: 'binary' })
    .optional(),
})
  .strict()
  .refine((b) => (b.answerText === undefined) !== (b.audio === undefined || b.audio === null), {
    path: ['answerText'],
    message: 'a speaking task takes a recording (multipart audio), a writing task a typed answerText: send exactly one',
  })
/** Submissions are limited per learner (and per IP when there is one). */
const learnerAccount = ({ user }: { user?: { id: string } }) => (user ? `user:${user.id}` : undefined)

export const submissionRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'submissions', prefix: '/v1/submissions' })
    .use(authGuard(deps))
    .use(rateLimit({ limiter: new RateLimiter(deps.redis), trustProxy: deps.config.TRUST_PROXY }))
    .post(
      '/',
      async ({ body, user, set, request }) => {
        const key = request.headers.get('idempotency-key') ?? undefined
        const { submission, replayed } =
          body.audio instanceof UploadedAudio
            ? await createAudioSubmission(deps, user, { taskId: body.taskId, audio: body.audio }, key)
            : await createSubmission(deps, user, { taskId: body.taskId, answerText: body.answerText! }, key)
        set.status = replayed ? 200 : 202
        if (replayed) set.headers['idempotent-replayed'] = 'true'
        return submission
      },
      {
        auth: true,
        // After auth (the macro order is the option order), so the learner's id is known; checked
        // before the body is read, as the auth is (body-guard.ts).
        rateLimit: {
          name: 'submit',
          limit: deps.config.RATE_LIMIT_SUBMISSIONS,
          windowSeconds: deps.config.RATE_LIMIT_WINDOW_SECONDS,
          account: learnerAccount,
          beforeBody: true,
        },
        // JSON for a typed answer; multipart/form-data (taskId + audio) for a recording, read by the
        // body gate's multipart policy (audio.ts) into an AudioForm before this schema sees it.
        body: SubmissionBody,
        response: { 200: Submission, 202: Submission, 401: Problem, 409: Problem, 413: Problem, 415: Problem, 422: Problem, 429: Problem },
        detail: {
          tags: ['submissions'],
          summary: 'Submit an answer for grading: typed text (JSON) or a recording (multipart)',
          description:
            'Writing: JSON `{taskId, answerText}`. Speaking: `multipart/form-data` with `taskId` and `audio` (wav, webm/opus, ogg, mp3 or m4a, recognised from the bytes; at most AUDIO_MAX_BYTES and AUDIO_MAX_SECONDS); 413 too large, 415 not a supported recording, 422 damaged, truncated, too short, too long or silent. With `Idempotency-Key`, a repeat of the same body returns the original submission (200, `Idempotent-Replayed: true`); the same key with another body is a 409.',
        },
      },
    )
    .get('/', ({ query, user }) => listSubmissions(deps, user, query), {
      auth: true,
      query: ListSubmissionsQuery,
      response: { 200: SubmissionPage, 401: Problem, 422: Problem },
      detail: { tags: ['submissions'], summary: "The caller's submissions, newest first, a cursor page at a time" },
    })
    .get('/:id', ({ params, user }) => getSubmission(deps, user, params.id), {
      auth: true,
      params: IdParams,
      response: { 200: Submission, 404: Problem },
      detail: { tags: ['submissions'], summary: 'One submission with its grades' },
    })
    .get(
      '/:id/audio',
      async ({ params, user, request }) =>
        audioResponse(deps, await readableSubmissionRow(deps, user, params.id), request.headers.get('range')),
      {
        auth: true,
        params: IdParams,
        detail: {
          tags: ['submissions'],
          summary: 'The recording of a spoken answer (owner, instructors and admins); supports Range',
          description:
            'Streams the bytes with `Accept-Ranges: bytes`; a `Range: bytes=a-b` request gets 206 with `Content-Range`, one past the end 416. Anyone else gets 404, as for the submission.',
        },
      },
    )
    .post(
      '/:id/retry',
      ({ params, user, set }) => {
        set.status = 202
        return retrySubmission(deps, user, params.id)
      },
      {
        auth: true,
        params: IdParams,
        response: { 202: Submission, 403: Problem, 404: Problem, 409: Problem },
        detail: { tags: ['submissions'], summary: 'Grade a failed submission again (failed → pending)' },
      },
    )
    .delete(
      '/:id',
      async ({ params, user, set }) => {
        await deleteSubmission(deps, user, params.id)
        set.status = 204
      },
      {
        auth: true,
        params: IdParams,
        detail: { tags: ['submissions'], summary: 'Delete a submission and everything about it (owner or admin)', ...NO_CONTENT },
      },
    )
    .get(
      '/:id/events',
      async function* (ctx) {
        await readableSubmissionRow(deps, ctx.user, ctx.params.id)
        yield* liveStream(deps, ctx, { kind: 'submission', id: ctx.params.id }, (e) => isTerminalStatus(e.to))
      },
      {
        auth: true,
        params: IdParams,
        query: StreamQuery,
        // The refusals before the first event, so Eden types them; the 200 is the SSE generator.
        response: { 401: Problem, 404: Problem, 422: Problem, 429: Problem },
        detail: {
          tags: ['live'],
          summary: 'Status changes of one submission (Server-Sent Events)',
          description:
            'Sends `status` events (id = event id) from the start, or after `Last-Event-ID` / `?since=`, then live ones; `ping` every SSE_HEARTBEAT_MS. Ends after a terminal status (`completed`); `failed` can still be retried, so the stream stays open.',
        },
      },
    )
