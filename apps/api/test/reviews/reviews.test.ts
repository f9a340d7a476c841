import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { reviews, submissionEvents, submissions } from '@vstep/db'
import { createTestContext, type TestContext } from '../support/context'
import { insertGrade, insertSubmission, json, taskByPart, userWithRole } from '../lifecycle/fixtures'

type Detail = {
  submissionId: string
  reviewerId: string | null
  priority: string
  aiGrade: { overall: number } | null
  humanGrade: { overall: number; source: string; criteria: unknown[] } | null
  difference: number | null
  disagreement: boolean
  submission: { status: string }
}

let ctx: TestContext
let learner: { token: string; userId: string }
let instructors: { token: string; userId: string }[]
let admin: { token: string; userId: string }
let taskId: string

beforeAll(async () => {
  ctx = await createTestContext()
  learner = await ctx.signUp()
  instructors = await Promise.all(Array.from({ length: 5 }, () => userWithRole(ctx, 'instructor')))
  admin = await userWithRole(ctx, 'admin')
  taskId = (await taskByPart(ctx, 'writing_task_2')).id
})
afterAll(() => ctx.close())

const clearQueue = () => ctx.deps.db.update(reviews).set({ completedAt: sql`now()` }).where(sql`${reviews.completedAt} is null`)

describe('review queue and claims', () => {
  test('learners may not see the queue (403); the queue orders high → low, then oldest first', async () => {
    await clearQueue()
    expect((await ctx.call('GET', '/v1/reviews', { token: learner.token })).status).toBe(403)
    const t0 = Date.now() - 60_000
    const spec = [
      ['low', 0],
      ['high', 3],
      ['medium', 1],
      ['high', 2],
      ['medium', 4],
    ] as const
    const ids: Record<string, string> = {}
    for (const [priority, age] of spec) {
      const row = await insertSubmission(ctx, {
        userId: learner.userId,
        taskId,
        status: 'review_pending',
        review: { priority, createdAt: new Date(t0 + age * 1000) },
      })
      ids[`${priority}${age}`] = row.id
    }
    const res = await ctx.call('GET', '/v1/reviews', { token: instructors[0]!.token })
    expect(res.status).toBe(200)
    const { items } = await json<{ items: { submissionId: string }[] }>(res)
    expect(items.map((i) => i.submissionId)).toEqual([ids.high2, ids.high3, ids.medium1, ids.medium4, ids.low0].map(String))
  })

  test('20 concurrent claims by 5 instructors over 10 review_pending submissions: each claimed exactly once', async () => {
    await clearQueue()
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        insertSubmission(ctx, {
          userId: learner.userId,
          taskId,
          status: 'review_pending',
          review: { priority: (['low', 'medium', 'high'] as const)[i % 3]! },
        }),
      ),
    )
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ctx.call('POST', '/v1/reviews/claim', { token: instructors[i % 5]!.token })),
    )
    const ok = responses.filter((r) => r.status === 200)
    expect(ok).toHaveLength(10)
    expect(responses.filter((r) => r.status === 204)).toHaveLength(10)
    const claimed = await Promise.all(ok.map((r) => json<Detail>(r)))
    const claimedIds = claimed.map((c) => c.submissionId)
    expect(new Set(claimedIds).size).toBe(10)
    expect([...claimedIds].sort()).toEqual(created.map((c) => c.id).sort())
    const rows = await ctx.deps.db.select().from(reviews).where(sql`${reviews.completedAt} is null`)
    for (const r of rows) expect(claimed.find((c) => c.submissionId === r.submissionId)?.reviewerId).toBe(r.reviewerId!)
  })

  test('claiming one held by someone else is a 409; after 15 minutes it may be taken over', async () => {
    await clearQueue()
    const row = await insertSubmission(ctx, { userId: learner.userId, taskId, status: 'review_pending', review: { priority: 'high' } })
    const [a, b] = instructors as [(typeof instructors)[0], (typeof instructors)[0]]
    expect((await ctx.call('POST', `/v1/reviews/${row.id}/claim`, { token: a.token })).status).toBe(200)
    const taken = await ctx.call('POST', `/v1/reviews/${row.id}/claim`, { token: b.token })
    expect(taken.status).toBe(409)
    expect(taken.headers.get('content-type')).toBe('application/problem+json')
    expect((await ctx.call('POST', '/v1/reviews/claim', { token: b.token })).status).toBe(204)
    await ctx.deps.db.update(reviews).set({ claimedAt: sql`now() - interval '16 minutes'` }).where(eq(reviews.submissionId, row.id))
    const over = await ctx.call('POST', `/v1/reviews/${row.id}/claim`, { token: b.token })
    expect(over.status).toBe(200)
    expect((await json<Detail>(over)).reviewerId).toBe(b.userId)
  })

  test('release: only the holder (or an admin); admin assign; instructors cannot assign', async () => {
    await clearQueue()
    const row = await insertSubmission(ctx, { userId: learner.userId, taskId, status: 'review_pending', review: { priority: 'medium' } })
    const [a, b] = instructors as [(typeof instructors)[0], (typeof instructors)[0]]
    await ctx.call('POST', `/v1/reviews/${row.id}/claim`, { token: a.token })
    expect((await ctx.call('POST', `/v1/reviews/${row.id}/release`, { token: b.token })).status).toBe(409)
    const released = await ctx.call('POST', `/v1/reviews/${row.id}/release`, { token: a.token })
    expect(released.status).toBe(200)
    expect((await json<Detail>(released)).reviewerId).toBeNull()
    expect((await ctx.call('POST', `/v1/reviews/${row.id}/assign`, { token: a.token, body: { reviewerId: b.userId } })).status).toBe(403)
    expect(
      (await ctx.call('POST', `/v1/reviews/${row.id}/assign`, { token: admin.token, body: { reviewerId: learner.userId } })).status,
    ).toBe(422)
    const assigned = await ctx.call('POST', `/v1/reviews/${row.id}/assign`, { token: admin.token, body: { reviewerId: b.userId } })
    expect(assigned.status).toBe(200)
    expect((await json<Detail>(assigned)).reviewerId).toBe(b.userId)
    expect((await ctx.call('POST', `/v1/reviews/${row.id}/claim`, { token: a.token })).status).toBe(409)
  })
})

describe('PUT /v1/reviews/:id', () => {
  const writing = (s: number[]) =>
    ['task_fulfilment', 'organisation', 'vocabulary', 'grammar'].map((criterion, i) => ({ criterion, score: s[i], feedback: 'ok' }))

  // Issue 11, finding 12: an instructor could grade their own submission.
  test('nobody reviews their own submission: 403 on claim and grade, skipped by claim-next, refused on assign', async () => {
    await clearQueue()
    const [author, other] = instructors as [(typeof instructors)[0], (typeof instructors)[0]]
    const row = await insertSubmission(ctx, { userId: author.userId, taskId, status: 'review_pending', review: { priority: 'high' } })
    await insertGrade(ctx, row.id, 'ai', { task_fulfilment: 6, organisation: 6, vocabulary: 6, grammar: 6 }, 6)

    expect((await ctx.call('POST', '/v1/reviews/claim', { token: author.token })).status).toBe(204)
    const claim = await ctx.call('POST', `/v1/reviews/${row.id}/claim`, { token: author.token })
    expect(claim.status).toBe(403)
    expect(claim.headers.get('content-type')).toBe('application/problem+json')
    const grade = await ctx.call('PUT', `/v1/reviews/${row.id}`, { token: author.token, body: { criteria: writing([9, 9, 9, 9]) } })
    expect(grade.status).toBe(403)
    // Even holding the claim (given before this rule existed) does not let the author grade.
    await ctx.deps.db.update(reviews).set({ reviewerId: author.userId, claimedAt: sql`now()` }).where(eq(reviews.submissionId, row.id))
    expect(
      (await ctx.call('PUT', `/v1/reviews/${row.id}`, { token: author.token, body: { criteria: writing([9, 9, 9, 9]) } })).status,
    ).toBe(403)
    await ctx.deps.db.update(reviews).set({ reviewerId: null, claimedAt: null }).where(eq(reviews.submissionId, row.id))
    expect(
      (await ctx.call('POST', `/v1/reviews/${row.id}/assign`, { token: admin.token, body: { reviewerId: author.userId } })).status,
    ).toBe(422)

    const [sub] = await ctx.deps.db.select().from(submissions).where(eq(submissions.id, row.id))
    expect(sub!.status).toBe('review_pending')
    expect((await json<Detail>(await ctx.call('GET', `/v1/reviews/${row.id}`, { token: other.token }))).humanGrade).toBeNull()

    // An admin's own submission is refused too; someone else grades it normally.
    const adminRow = await insertSubmission(ctx, { userId: admin.userId, taskId, status: 'review_pending', review: { priority: 'low' } })
    expect(
      (await ctx.call('PUT', `/v1/reviews/${adminRow.id}`, { token: admin.token, body: { criteria: writing([5, 5, 5, 5]) } })).status,
    ).toBe(403)
    const claimed = await ctx.call('POST', '/v1/reviews/claim', { token: other.token })
    expect((await json<Detail>(claimed)).submissionId).toBe(row.id)
    expect((await ctx.call('PUT', `/v1/reviews/${row.id}`, { token: other.token, body: { criteria: writing([6, 6, 6, 6]) } })).status).toBe(
      200,
    )
  })

  test('records the human grade beside the AI draft, completes the submission, flags a disagreement', async () => {
    await clearQueue()
    const row = await insertSubmission(ctx, { userId: learner.userId, taskId, status: 'review_pending', review: { priority: 'high' } })
    await insertGrade(ctx, row.id, 'ai', { task_fulfilment: 6, organisation: 6, vocabulary: 6, grammar: 6 }, 6)
    const [a, b] = instructors as [(typeof instructors)[0], (typeof instructors)[0]]
    await ctx.call('POST', `/v1/reviews/${row.id}/claim`, { token: a.token })

    expect((await ctx.call('PUT', `/v1/reviews/${row.id}`, { token: b.token, body: { criteria: writing([4, 4, 4, 4.5]) } })).status).toBe(
      409,
    )
    const wrongSet = await ctx.call('PUT', `/v1/reviews/${row.id}`, {
      token: a.token,
      body: { criteria: [{ criterion: 'fluency', score: 5 }, ...writing([4, 4, 4]).slice(0, 3)] },
    })
    expect(wrongSet.status).toBe(422)
    const offGrid = await ctx.call('PUT', `/v1/reviews/${row.id}`, { token: a.token, body: { criteria: writing([4.3, 4, 4, 4]) } })
    expect(offGrid.status).toBe(422)
    const tooHigh = await ctx.call('PUT', `/v1/reviews/${row.id}`, { token: a.token, body: { criteria: writing([10.5, 4, 4, 4]) } })
    expect(tooHigh.status).toBe(422)

    const res = await ctx.call('PUT', `/v1/reviews/${row.id}`, {
      token: a.token,
      body: { criteria: writing([4, 4, 4, 4.5]), comment: 'Underdeveloped.' },
    })
    expect(res.status).toBe(200)
    const detail = await json<Detail>(res)
    expect(detail.aiGrade?.overall).toBe(6) // never overwritten
    expect(detail.humanGrade).toMatchObject({ overall: 4, source: 'human' }) // mean 4.125 → 4.0
    expect(detail.humanGrade?.criteria).toHaveLength(4)
    expect(detail.difference).toBe(2)
    expect(detail.disagreement).toBe(true)
    expect(detail.submission.status).toBe('completed')

    const [sub] = await ctx.deps.db.select().from(submissions).where(eq(submissions.id, row.id))
    expect(sub!.status).toBe('completed')
    const events = await ctx.deps.db
      .select()
      .from(submissionEvents)
      .where(eq(submissionEvents.submissionId, row.id))
      .orderBy(submissionEvents.id)
    expect(events.at(-1)).toMatchObject({
      fromStatus: 'review_pending',
      toStatus: 'completed',
      actor: `user:${a.userId}`,
      reason: 'review',
    })

    const learnerView = await json<{ grades: { source: string; overall: number }[] }>(
      await ctx.call('GET', `/v1/submissions/${row.id}`, { token: learner.token }),
    )
    expect(learnerView.grades.map((g) => [g.source, g.overall]).sort()).toEqual([
      ['ai', 6],
      ['human', 4],
    ])

    expect((await ctx.call('PUT', `/v1/reviews/${row.id}`, { token: a.token, body: { criteria: writing([5, 5, 5, 5]) } })).status).toBe(409)

    expect((await ctx.call('GET', '/v1/admin/grade-disagreements', { token: a.token })).status).toBe(403)
    const audit = await json<{ items: { submissionId: string; difference: number; aiOverall: number; humanOverall: number }[] }>(
      await ctx.call('GET', '/v1/admin/grade-disagreements', { token: admin.token }),
    )
    expect(audit.items.find((i) => i.submissionId === row.id)).toMatchObject({ aiOverall: 6, humanOverall: 4, difference: 2 })
  })

  test('an agreement within 0.5 is not flagged; a spot check of a completed submission stays completed', async () => {
    await clearQueue()
    const row = await insertSubmission(ctx, { userId: learner.userId, taskId, status: 'completed', review: { priority: 'low' } })
    await insertGrade(ctx, row.id, 'ai', { task_fulfilment: 6, organisation: 6, vocabulary: 6, grammar: 6 }, 6)
    const claim = await ctx.call('POST', '/v1/reviews/claim', { token: instructors[2]!.token })
    expect((await json<Detail>(claim)).submissionId).toBe(row.id)
    const res = await ctx.call('PUT', `/v1/reviews/${row.id}`, { token: instructors[2]!.token, body: { criteria: writing([6, 6, 6, 7]) } })
    expect(res.status).toBe(200)
    const detail = await json<Detail>(res)
    expect(detail.humanGrade?.overall).toBe(6.5) // 6.25 → 6.5 (half up)
    expect(detail.disagreement).toBe(false)
    expect(detail.submission.status).toBe('completed')
    const audit = await json<{ items: { submissionId: string }[] }>(
      await ctx.call('GET', '/v1/admin/grade-disagreements', { token: admin.token }),
    )
    expect(audit.items.map((i) => i.submissionId)).not.toContain(row.id)
    // No status changed, yet the learner is told of the final grade: one completed → completed event.
    const events = await ctx.deps.db.select().from(submissionEvents).where(eq(submissionEvents.submissionId, row.id))
    expect(events.map((e) => [e.fromStatus, e.toStatus, e.reason, e.actor])).toEqual([
      [null, 'completed', null, 'system'],
      ['completed', 'completed', 'review', `user:${instructors[2]!.userId}`],
    ])
  })
})
