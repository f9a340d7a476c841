import { Elysia } from 'elysia'
import { Problem, Progress } from '@vstep/contracts'
import { authGuard } from '../auth/guard'
import type { AppDeps } from '../deps'
import { NextTask } from './next-task'
import { nextTaskFor } from './next-task-service'
import { progressOf } from './service'

export const progressRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'progress' })
    .use(authGuard(deps))
    .get('/v1/progress', ({ user }) => progressOf(deps, user.id), {
      auth: true,
      response: { 200: Progress, 401: Problem },
      detail: {
        tags: ['progress'],
        summary: "The caller's graded history and estimated band per skill",
        description:
          'Estimated over the last 10 graded attempts per skill (fewer than 3: insufficient_data). Writing = (Task 1 + 2 × Task 2) / 3; overall = mean of skills rounded to 0.5. Final grade = human if present, else AI; late results are left out.',
      },
    })
    .get('/v1/progress/next-task', ({ user }) => nextTaskFor(deps, user.id), {
      auth: true,
      response: { 200: NextTask, 401: Problem },
      detail: {
        tags: ['progress'],
        summary: 'Practise next: a task aimed at the weakest criterion',
        description:
          'The criterion with the lowest mean over the last 10 graded attempts per skill (final grades), and a task of its skill: in the part where that criterion scored lowest, the one the caller tried least, then longest ago. Without graded attempts: the least tried Writing task (reason no_graded_attempts).',
      },
    })
