import { eq } from 'drizzle-orm'
import { tasks } from '@vstep/db'
import { CATALOG_CHANNEL } from '../catalog/cache'
import type { AppDeps } from '../deps'

/** What intake needs of a task: it exists, its skill, its grading mode. */
export type TaskFacts = Pick<typeof tasks.$inferSelect, 'id' | 'skill' | 'gradingMode'>

/**
 * The facts of each task, held in memory for `POST /v1/submissions` so that intake does not read
 * the task row on every submission. Kept like the catalogue's memory level (catalog/cache.ts): every
 * catalogue write, on any instance, publishes on `catalog:changes`, which empties this map; it is
 * only trusted while that channel is subscribed (a reconnect empties it too), and a read that
 * overlapped an invalidation (`epoch`) is not stored. Unknown ids are never stored, so the map is
 * bounded by the catalogue. A task deleted in the instant before the insert leaves the insert to
 * fail on its foreign key, as a concurrent delete could before.
 */
export class TaskFactsCache {
  private readonly memory = new Map<string, TaskFacts>()
  private epoch = 0

  constructor(private readonly deps: Pick<AppDeps, 'db' | 'redis'>) {
    deps.redis.subscriber.on(
      CATALOG_CHANNEL,
      () => this.forget(),
      () => this.forget(),
    )
  }

  private forget(): void {
    this.epoch++
    this.memory.clear()
  }

  async get(id: string): Promise<TaskFacts | undefined> {
    const live = this.deps.redis.subscriber.isLive(CATALOG_CHANNEL)
    if (live) {
      const held = this.memory.get(id)
      if (held) return held
    }
    const epoch = this.epoch
    const [task] = await this.deps.db
      .select({ id: tasks.id, skill: tasks.skill, gradingMode: tasks.gradingMode })
      .from(tasks)
      .where(eq(tasks.id, id))
    if (task && live && epoch === this.epoch) this.memory.set(id, task)
    return task
  }
}

const caches = new WeakMap<AppDeps['redis'], TaskFactsCache>()

/** The cache of this process for these dependencies (one per app; tests build many). */
export function taskFacts(deps: Pick<AppDeps, 'db' | 'redis'>): TaskFactsCache {
  let cache = caches.get(deps.redis)
  if (!cache) caches.set(deps.redis, (cache = new TaskFactsCache(deps)))
  return cache
}
