import { z } from 'zod'
import { Criterion, PROGRESS_POLICY, Skill, Task, type TaskPart } from '@vstep/contracts'

/**
 * "Practise next": the learner's weakest criterion and a task to practise it. Pure functions over
 * rows the service loads, so the choice is unit-tested without a database.
 *
 * - Weakest criterion: per skill, the last PROGRESS_POLICY.window graded attempts (final grade =
 *   human if present, else AI, as progress uses); per (skill, criterion) the mean score; the lowest
 *   mean wins (ties: Writing before Speaking, then the rubric's criterion order).
 * - The task: of that skill, in the part where the learner scored lowest on that criterion (parts
 *   they never tried come after the ones they did: we know the weakness shows there), the task they
 *   attempted least, then longest ago, then by part and title (stable).
 * - No graded attempt yet: the least attempted Writing task (Task 1 first), reason `no_graded_attempts`.
 */

export const NextTask = z.object({
  reason: z.enum(['weakest_criterion', 'no_graded_attempts']),
  skill: Skill.nullable(),
  criterion: Criterion.nullable(),
  /** Mean score of that criterion over the window, one decimal; null without graded attempts. */
  criterionMean: z.number().nullable(),
  /** Graded attempts of that skill the mean is based on. */
  basedOnAttempts: z.int(),
  /** null only when the catalogue has no task of that skill. */
  task: Task.nullable(),
})
export type NextTask = z.infer<typeof NextTask>

/** One criterion score of a final grade, with when it was graded (newest attempts count). */
export type CriterionScore = { submissionId: string; skill: Skill; part: TaskPart; criterion: Criterion; score: number; gradedAt: Date }
/** How often and when the learner last submitted each task (any status). */
export type TaskUse = { taskId: string; attempts: number; lastAt: Date | null }

const SKILL_ORDER: readonly Skill[] = ['writing', 'speaking']
const CRITERION_ORDER = Criterion.options

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

/** The lowest-scoring (skill, criterion) over the recent window, or null without scores. */
export function weakestCriterion(scores: CriterionScore[], window: number = PROGRESS_POLICY.window) {
  let best: { skill: Skill; criterion: Criterion; mean: number; attempts: number; byPart: Map<TaskPart, number> } | null = null
  for (const skill of SKILL_ORDER) {
    const ofSkill = scores.filter((s) => s.skill === skill)
    // The window is over attempts (submissions), not over criterion rows.
    const recent = [...new Map(ofSkill.map((s) => [s.submissionId, s.gradedAt.getTime()])).entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1))
      .slice(0, window)
      .map(([id]) => id)
    const inWindow = new Set(recent)
    const windowed = ofSkill.filter((s) => inWindow.has(s.submissionId))
    for (const criterion of CRITERION_ORDER) {
      const rows = windowed.filter((s) => s.criterion === criterion)
      if (rows.length === 0) continue
      const m = mean(rows.map((r) => r.score))
      if (best === null || m < best.mean - 1e-9) {
        const byPart = new Map<TaskPart, number>()
        for (const part of new Set(rows.map((r) => r.part))) byPart.set(part, mean(rows.filter((r) => r.part === part).map((r) => r.score)))
        best = { skill, criterion, mean: m, attempts: recent.length, byPart }
      }
    }
  }
  return best
}

/** Picks the task to practise next (see the module comment for the rules). */
export function pickNextTask(scores: CriterionScore[], tasks: Task[], uses: TaskUse[]): NextTask {
  const weakest = weakestCriterion(scores)
  const skill: Skill = weakest?.skill ?? 'writing'
  const useOf = new Map(uses.map((u) => [u.taskId, u]))
  const partRank = (part: TaskPart) => weakest?.byPart.get(part) ?? Number.POSITIVE_INFINITY
  const candidates = tasks
    .filter((t) => t.skill === skill)
    .sort((a, b) => {
      const ua = useOf.get(a.id)
      const ub = useOf.get(b.id)
      return (
        partRank(a.part) - partRank(b.part) ||
        (ua?.attempts ?? 0) - (ub?.attempts ?? 0) ||
        (ua?.lastAt?.getTime() ?? 0) - (ub?.lastAt?.getTime() ?? 0) ||
        a.part.localeCompare(b.part) ||
        a.title.localeCompare(b.title) ||
        a.id.localeCompare(b.id)
      )
    })
  return {
    reason: weakest ? 'weakest_criterion' : 'no_graded_attempts',
    skill: weakest ? skill : null,
    criterion: weakest?.criterion ?? null,
    criterionMean: weakest ? Math.round(weakest.mean * 10) / 10 : null,
    basedOnAttempts: weakest?.attempts ?? 0,
    task: candidates[0] ?? null,
  }
}
