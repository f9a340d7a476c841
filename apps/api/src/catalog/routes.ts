import { Elysia } from 'elysia'
import { z } from 'zod'
import { Problem, Task } from '@vstep/contracts'
import type { AppDeps } from '../deps'
import { notFound } from '../platform/problem'
import { findTask, listTasks } from './queries'

export const catalogRoutes = (deps: AppDeps) =>
  new Elysia({ name: 'catalog', prefix: '/v1/tasks' })
    .get('/', async () => ({ items: await listTasks(deps.db) }), {
      response: { 200: z.object({ items: z.array(Task) }) },
      detail: { tags: ['catalogue'], summary: 'All practice tasks' },
    })
    .get(
      '/:id',
      async ({ params }) => {
        const task = await findTask(deps.db, params.id)
        if (!task) throw notFound('task')
        return task
      },
      { params: z.object({ id: z.uuid() }), response: { 200: Task, 404: Problem }, detail: { tags: ['catalogue'], summary: 'One task' } },
    )
