import { Elysia } from 'elysia'
import { z } from 'zod'
import { AssignReviewBody, GradeDisagreement, Problem, Review, ReviewDetail, ReviewQueueQuery, SubmitReviewBody } from '@vstep/contracts'
import { authGuard } from '../auth/guard'
import type { AppDeps } from '../deps'
import { assign, claimNext, claimOne, gradeDisagreements, release, reviewDetail, reviewQueue, submitReview } from './service'

const IdParams = z.object({ id: z.uuid() })
/** The empty body of a 204 (the handler returns null; the document shows no content). */
const NoContent = z.null()
const STAFF = ['instructor', 'admin'] as const
const tags = ['reviews']

/** The instructor workflow: queue, claim (next or one), assign, release, grade; plus the admin audit list. */
export const reviewRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'reviews' })
    .use(authGuard(deps))
    .get('/v1/reviews', async ({ query }) => ({ items: await reviewQueue(deps, query.limit) }), {
      auth: STAFF,
      query: ReviewQueueQuery,
      response: { 200: z.object({ items: z.array(Review) }), 401: Problem, 403: Problem },
      detail: { tags, summary: 'Open reviews: high → low priority, then oldest first' },
    })
    .post(
      '/v1/reviews/claim',
      async ({ user, set }) => {
        const claimed = await claimNext(deps, user)
        if (!claimed) {
          set.status = 204
          return null
        }
        return claimed
      },
      {
        auth: STAFF,
        // Declared so Eden types `data` as the claimed ReviewDetail, or null for the 204.
        response: { 200: ReviewDetail, 204: NoContent, 401: Problem, 403: Problem },
        detail: {
          tags,
          summary: 'Claim the next review (FOR UPDATE SKIP LOCKED)',
          description: '200 with the review, or 204 when nothing is claimable. A claim older than 15 minutes may be taken over.',
        },
      },
    )
    .get('/v1/reviews/:id', ({ params }) => reviewDetail(deps.db, params.id), {
      auth: STAFF,
      params: IdParams,
      response: { 200: ReviewDetail, 404: Problem },
      detail: { tags, summary: 'One review with the answer, the AI draft and the human grade' },
    })
    .post('/v1/reviews/:id/claim', ({ params, user }) => claimOne(deps, user, params.id), {
      auth: STAFF,
      params: IdParams,
      response: { 200: ReviewDetail, 403: Problem, 404: Problem, 409: Problem },
      detail: { tags, summary: 'Claim this review (409 if someone else holds a fresh claim; 403 for your own submission)' },
    })
    .post('/v1/reviews/:id/assign', ({ params, body }) => assign(deps, params.id, body.reviewerId), {
      auth: ['admin'],
      params: IdParams,
      body: AssignReviewBody,
      response: { 200: ReviewDetail, 404: Problem, 409: Problem, 422: Problem },
      detail: { tags, summary: 'Admin: give this review to an instructor' },
    })
    .post('/v1/reviews/:id/release', ({ params, user }) => release(deps, user, params.id), {
      auth: STAFF,
      params: IdParams,
      response: { 200: ReviewDetail, 404: Problem, 409: Problem },
      detail: { tags, summary: 'Give a claimed review back to the queue' },
    })
    .put('/v1/reviews/:id', ({ params, user, body }) => submitReview(deps, user, params.id, body), {
      auth: STAFF,
      params: IdParams,
      body: SubmitReviewBody,
      response: { 200: ReviewDetail, 403: Problem, 404: Problem, 409: Problem, 422: Problem },
      detail: {
        tags,
        summary: 'Record the final human grade and complete the review',
        description:
          'Nobody grades their own submission (403). Scores 0–10 in 0.5 steps for each criterion of the skill; the overall is their mean rounded to 0.5. The AI grade is kept beside it.',
      },
    })
    .get('/v1/admin/grade-disagreements', async ({ query }) => ({ items: await gradeDisagreements(deps, query.limit) }), {
      auth: ['admin'],
      query: ReviewQueueQuery,
      response: { 200: z.object({ items: z.array(GradeDisagreement) }), 401: Problem, 403: Problem },
      detail: { tags: ['admin'], summary: 'Human grades more than 0.5 away from the AI grade' },
    })
