import { sql } from 'drizzle-orm'
import type { Criterion, Skill, TaskPart } from '@vstep/contracts'
import { gradeCriteria, grades, submissions, tasks } from '@vstep/db'
import { listTasks } from '../catalog/queries'
import type { AppDeps } from '../deps'
import { pickNextTask, type CriterionScore, type NextTask, type TaskUse } from './next-task'

/**
 * Loads what `pickNextTask` needs: the criterion scores of the learner's final grades (completed,
 * not late; human if present, else AI, as GET /v1/progress counts them), how often each task was
 * tried, and the catalogue.
 */
export async function nextTaskFor(deps: AppDeps, userId: string): Promise<NextTask> {
  const scoreRows = (await deps.db.execute(sql`
    select s.id as submission_id, s.skill, t.part, c.criterion, c.score::float8 as score, g.created_at
    from ${submissions} s
    join ${tasks} t on t.id = s.task_id
    join lateral (
      select id, created_at from ${grades} g
      where g.submission_id = s.id order by (g.source = 'human') desc limit 1
    ) g on true
    join ${gradeCriteria} c on c.grade_id = g.id
    where s.user_id = ${userId} and s.status = 'completed' and not s.late`)) as unknown as {
    submission_id: string
    skill: Skill
    part: TaskPart
    criterion: Criterion
    score: number
    created_at: Date | string
  }[]
  const useRows = (await deps.db.execute(sql`
    select task_id, count(*)::int as attempts, max(created_at) as last_at
    from ${submissions} where user_id = ${userId} group by task_id`)) as unknown as {
    task_id: string
    attempts: number
    last_at: Date | string | null
  }[]

  const scores: CriterionScore[] = scoreRows.map((r) => ({
    submissionId: r.submission_id,
    skill: r.skill,
    part: r.part,
    criterion: r.criterion,
    score: Number(r.score),
    gradedAt: new Date(r.created_at),
  }))
  const uses: TaskUse[] = useRows.map((r) => ({
    taskId: r.task_id,
    attempts: Number(r.attempts),
    lastAt: r.last_at ? new Date(r.last_at) : null,
  }))
  return pickNextTask(scores, await listTasks(deps.db), uses)
}
