import { and, asc, count, eq, sql, type SQL } from 'drizzle-orm'
import type { CreateTaskBody, Skill, Task, TaskPart, UpdateTaskBody } from '@vstep/contracts'
import { skillOfPart } from '@vstep/contracts'
import { submissions, tasks } from '@vstep/db'
import type { Database } from '@vstep/db'
import { conflict, invalidField, notFound } from '../platform/problem'

type TaskRow = typeof tasks.$inferSelect

export const toTask = (row: TaskRow): Task => ({
  id: row.id,
  skill: row.skill,
  part: row.part,
  title: row.title,
  prompt: row.prompt,
  minWords: row.minWords,
  timeLimitMinutes: row.timeLimitMinutes,
  preparationSeconds: row.preparationSeconds,
  speakingSeconds: row.speakingSeconds,
  level: row.level,
  gradingMode: row.gradingMode,
})

export async function listTasks(db: Database, filter: { skill?: Skill; part?: TaskPart } = {}): Promise<Task[]> {
  const where: SQL[] = []
  if (filter.skill) where.push(eq(tasks.skill, filter.skill))
  if (filter.part) where.push(eq(tasks.part, filter.part))
  const rows = await db
    .select()
    .from(tasks)
    .where(where.length ? and(...where) : undefined)
    .orderBy(asc(tasks.part), asc(tasks.title), asc(tasks.id))
  return rows.map(toTask)
}

export async function findTask(db: Database, id: string): Promise<Task | null> {
  const [row] = await db.select().from(tasks).where(eq(tasks.id, id))
  return row ? toTask(row) : null
}

const slugOf = (title: string) =>
  `${
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'task'
  }-${crypto.randomUUID().slice(0, 6)}`

const pgCode = (e: unknown) => ((e as { cause?: { code?: string } })?.cause ?? (e as { code?: string }))?.code

export async function createTask(db: Database, body: CreateTaskBody): Promise<Task> {
  if (skillOfPart(body.part) !== body.skill) throw invalidField('part', `a ${body.skill} task needs a ${body.skill} part`)
  try {
    const [row] = await db
      .insert(tasks)
      .values({ ...body, slug: body.slug ?? slugOf(body.title) })
      .returning()
    return toTask(row!)
  } catch (error) {
    if (pgCode(error) === '23505') throw conflict('a task with this slug already exists')
    throw error
  }
}

export async function updateTask(db: Database, id: string, body: UpdateTaskBody): Promise<Task> {
  const [row] = await db
    .update(tasks)
    .set({ ...body, updatedAt: sql`now()` })
    .where(eq(tasks.id, id))
    .returning()
  if (!row) throw notFound('task')
  return toTask(row)
}

/** Refuses to delete a task learners have answered: the cascade would erase their history. */
export async function deleteTask(db: Database, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, id)).for('update')
    if (!row) throw notFound('task')
    const [used] = await tx.select({ n: count() }).from(submissions).where(eq(submissions.taskId, id))
    if (used && used.n > 0) throw conflict(`this task has ${used.n} submission(s); change it instead of deleting it`)
    await tx.delete(tasks).where(eq(tasks.id, id))
  })
}
