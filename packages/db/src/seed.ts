import { sql } from 'drizzle-orm'
import type { Database } from './client'
import { tasks } from './schema'
import { SEED_TASKS } from './seed-tasks'

/** Inserts the catalogue tasks, updating them by slug, so running it twice changes nothing. */
export async function seedTasks(db: Database): Promise<number> {
  const rows = await db
    .insert(tasks)
    .values([...SEED_TASKS])
    .onConflictDoUpdate({
      target: tasks.slug,
      set: {
        title: sql`excluded.title`,
        prompt: sql`excluded.prompt`,
        minWords: sql`excluded.min_words`,
        timeLimitMinutes: sql`excluded.time_limit_minutes`,
        preparationSeconds: sql`excluded.preparation_seconds`,
        speakingSeconds: sql`excluded.speaking_seconds`,
        level: sql`excluded.level`,
      },
    })
    .returning({ id: tasks.id })
  return rows.length
}
