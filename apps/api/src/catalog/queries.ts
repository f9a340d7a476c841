import { asc, eq } from 'drizzle-orm'
import type { Task } from '@vstep/contracts'
import { tasks } from '@vstep/db'
import type { Database } from '@vstep/db'

type TaskRow = typeof tasks.$inferSelect

export const toTask = (row: TaskRow): Task => ({
  id: row.id,
  skill: row.skill,
  part: row.part,
  title: row.title,
  prompt: row.prompt,
  minWords: row.minWords,
  timeLimitMinutes: row.timeLimitMinutes,
  level: row.level,
  gradingMode: row.gradingMode,
})

export async function listTasks(db: Database): Promise<Task[]> {
  const rows = await db.select().from(tasks).orderBy(asc(tasks.part), asc(tasks.title))
  return rows.map(toTask)
}

export async function findTask(db: Database, id: string): Promise<Task | null> {
  const [row] = await db.select().from(tasks).where(eq(tasks.id, id))
  return row ? toTask(row) : null
}
