import { cefrOf, PROGRESS_POLICY, roundToHalf, SKILLS, type CefrLevel, type Skill, type TaskPart } from '@vstep/contracts'

/** One graded attempt, with its final overall (human if present, else AI). Late results never get here. */
export type GradedAttempt = { skill: Skill; part: TaskPart; overall: number; gradedAt: Date }

export type SkillEstimate = {
  skill: Skill
  attemptsInWindow: number
  status: 'estimated' | 'insufficient_data'
  band: number | null
  cefr: CefrLevel | null
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

/**
 * The estimated band of one skill over its last `window` attempts (fewer than `minAttempts`:
 * insufficient data). Writing weighs Task 2 double, as VSTEP does: (mean T1 + 2 × mean T2) / 3;
 * with only one of the two tasks in the window, that task's mean is used. Speaking: the mean.
 * The result is rounded to 0.5 (half up).
 */
export function estimateSkill(skill: Skill, attempts: readonly GradedAttempt[], policy = PROGRESS_POLICY): SkillEstimate {
  const window = attempts
    .filter((a) => a.skill === skill)
    .toSorted((a, b) => b.gradedAt.getTime() - a.gradedAt.getTime())
    .slice(0, policy.window)
  if (window.length < policy.minAttempts) {
    return { skill, attemptsInWindow: window.length, status: 'insufficient_data', band: null, cefr: null }
  }
  let raw: number
  if (skill === 'writing') {
    const t1 = window.filter((a) => a.part === 'writing_task_1').map((a) => a.overall)
    const t2 = window.filter((a) => a.part === 'writing_task_2').map((a) => a.overall)
    const w = policy.writingWeights
    raw =
      t1.length && t2.length
        ? (w.writing_task_1 * mean(t1) + w.writing_task_2 * mean(t2)) / (w.writing_task_1 + w.writing_task_2)
        : mean(t1.length ? t1 : t2)
  } else {
    raw = mean(window.map((a) => a.overall))
  }
  const band = roundToHalf(raw)
  return { skill, attemptsInWindow: window.length, status: 'estimated', band, cefr: cefrOf(band) }
}

/** Overall = mean of the skill bands rounded to 0.5; it needs an estimate for every skill. */
export function estimateOverall(estimates: readonly SkillEstimate[]): {
  status: 'estimated' | 'insufficient_data'
  band: number | null
  cefr: CefrLevel | null
} {
  const bands = SKILLS.map((s) => estimates.find((e) => e.skill === s)?.band ?? null)
  if (bands.some((b) => b == null)) return { status: 'insufficient_data', band: null, cefr: null }
  const band = roundToHalf(mean(bands as number[]))
  return { status: 'estimated', band, cefr: cefrOf(band) }
}
