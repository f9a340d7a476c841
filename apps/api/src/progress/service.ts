import { sql } from 'drizzle-orm'
import { cefrOf, SKILLS, type GradeSource, type Progress, type Skill, type TaskPart } from '@vstep/contracts'
import { grades, submissions, tasks } from '@vstep/db'
import type { AppDeps } from '../deps'
import { estimateOverall, estimateSkill, type GradedAttempt } from './maths'

const HISTORY_LIMIT = 50

/**
 * A learner's graded attempts: completed, not late, with the final grade (human if present, else
 * AI). The estimate uses the last PROGRESS_POLICY.window per skill; the history the last 50.
 */
export async function progressOf(deps: AppDeps, userId: string): Promise<Progress> {
  const rows = (await deps.db.execute(sql`
    select * from (
      select s.id, s.task_id, s.skill, t.part, g.overall::float8 as overall, g.source, g.created_at,
             row_number() over (partition by s.skill order by g.created_at desc, s.id desc) as n
      from ${submissions} s
      join ${tasks} t on t.id = s.task_id
      join lateral (
        select overall, source, created_at from ${grades} g
        where g.submission_id = s.id order by (g.source = 'human') desc limit 1
      ) g on true
      where s.user_id = ${userId} and s.status = 'completed' and not s.late
    ) ranked where n <= ${HISTORY_LIMIT}
    order by created_at asc, id asc`)) as unknown as {
    id: string
    task_id: string
    skill: Skill
    part: TaskPart
    overall: number
    source: GradeSource
    created_at: Date | string
  }[]
  const attempts: (GradedAttempt & { id: string; taskId: string; source: GradeSource })[] = rows.map((r) => ({
    id: r.id,
    taskId: r.task_id,
    skill: r.skill,
    part: r.part,
    overall: Number(r.overall),
    source: r.source,
    gradedAt: new Date(r.created_at),
  }))
  const skills = SKILLS.map((skill) => {
    const estimate = estimateSkill(skill, attempts)
    return {
      ...estimate,
      history: attempts
        .filter((a) => a.skill === skill)
        .map((a) => ({
          submissionId: a.id,
          taskId: a.taskId,
          part: a.part,
          overall: a.overall,
          cefr: cefrOf(a.overall),
          source: a.source,
          gradedAt: a.gradedAt.toISOString(),
        })),
    }
  })
  return { skills, overall: estimateOverall(skills) }
}
