import { eq, sql } from 'drizzle-orm'
import type { Criterion, SubmissionStatus, UserRole } from '@vstep/contracts'
import { gradeCriteria, grades, reviews, submissions, tasks, users } from '@vstep/db'
import type { TestContext } from '../support/context'

/** Signs up a user and gives it a role directly in the database (no admin endpoint needed). */
export async function userWithRole(ctx: TestContext, role: UserRole) {
  const u = await ctx.signUp()
  if (role !== 'learner') await ctx.deps.db.update(users).set({ role }).where(eq(users.id, u.userId))
  return u
}

export async function taskByPart(ctx: TestContext, part: string) {
  const [task] = await ctx.deps.db.select().from(tasks).where(sql`${tasks.part} = ${part}`).limit(1)
  if (!task) throw new Error(`no seeded task for ${part}`)
  return task
}

/** Inserts a submission row directly in a given state (inserts are not transition-guarded). */
export async function insertSubmission(
  ctx: TestContext,
  o: {
    userId: string
    taskId: string
    status?: SubmissionStatus
    createdAt?: Date
    late?: boolean
    deadlineAt?: Date | null
    review?: { priority: 'low' | 'medium' | 'high'; createdAt?: Date }
  },
) {
  const [task] = await ctx.deps.db.select().from(tasks).where(eq(tasks.id, o.taskId))
  const [row] = await ctx.deps.db
    .insert(submissions)
    .values({
      userId: o.userId,
      taskId: o.taskId,
      skill: task!.skill,
      status: o.status ?? 'pending',
      gradingMode: task!.gradingMode,
      answerText: 'A stored answer of a few words.',
      wordCount: 7,
      late: o.late ?? false,
      deadlineAt: o.deadlineAt ?? null,
      ...(o.createdAt ? { createdAt: o.createdAt } : {}),
    })
    .returning()
  if (o.review) {
    await ctx.deps.db.insert(reviews).values({
      submissionId: row!.id,
      priority: o.review.priority,
      reason: 'test',
      ...(o.review.createdAt ? { createdAt: o.review.createdAt } : {}),
    })
  }
  return row!
}

export async function insertGrade(
  ctx: TestContext,
  submissionId: string,
  source: 'ai' | 'human',
  scores: Partial<Record<Criterion, number>>,
  overall: number,
) {
  const [g] = await ctx.deps.db
    .insert(grades)
    .values({ submissionId, source, overall, provider: 'test', model: 'test', rubricVersion: 'test-1', confidence: 0.9 })
    .returning()
  const entries = Object.entries(scores) as [Criterion, number][]
  if (entries.length)
    await ctx.deps.db.insert(gradeCriteria).values(entries.map(([criterion, score]) => ({ gradeId: g!.id, criterion, score })))
  return g!
}

export const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T
