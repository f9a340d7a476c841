import { Elysia } from 'elysia'
import { NO_CONTENT } from '../openapi/document'
import { z } from 'zod'
import { CreateTaskBody, Problem, Skill, Task, TaskPart, UpdateTaskBody } from '@vstep/contracts'
import { authGuard } from '../auth/guard'
import type { AppDeps } from '../deps'
import { notFound } from '../platform/problem'
import { type CatalogBody, CatalogCache, matches } from './cache'
import { createTask, deleteTask, findTask, listTasks, updateTask } from './queries'

const IdParams = z.object({ id: z.uuid() })
const tags = ['catalogue']

/** A cached JSON body with its ETag, or 304 when the client already has it. */
function conditional(request: Request, { json, etag, source, prepared }: CatalogBody): Response {
  const fresh = matches(request.headers.get('if-none-match'), etag)
  // Held bodies: the same prepared answer for every request (no re-encoding, no copy of a large catalogue).
  if (prepared) return fresh ? prepared.notModified : prepared.ok
  const headers = { etag, 'cache-control': 'no-cache', 'x-cache': source }
  if (fresh) return new Response(null, { status: 304, headers })
  return new Response(json, { status: 200, headers: { ...headers, 'content-type': 'application/json' } })
}

export const catalogRoutes = (deps: AppDeps) => {
  const cache = new CatalogCache(deps.redis)
  return new Elysia({ name: 'catalog', prefix: '/v1/tasks' })
    .use(authGuard(deps))
    .get(
      '/',
      async ({ query, request }) => {
        const what = `list:${query.skill ?? ''}:${query.part ?? ''}`
        return conditional(request, await cache.read(what, async () => ({ items: await listTasks(deps.db, query) })))
      },
      {
        query: z.object({ skill: Skill.optional(), part: TaskPart.optional() }),
        response: { 200: z.object({ items: z.array(Task) }) },
        detail: { tags, summary: 'All practice tasks (ETag / If-None-Match)' },
      },
    )
    .get(
      '/:id',
      async ({ params, request }) => {
        const body = await cache.read(`task:${params.id}`, () => findTask(deps.db, params.id))
        if (body.json === 'null') throw notFound('task')
        return conditional(request, body)
      },
      {
        params: IdParams,
        response: { 200: Task, 404: Problem },
        detail: { tags, summary: 'One task (ETag / If-None-Match)' },
      },
    )
    .post(
      '/',
      async ({ body, set }) => {
        const task = await createTask(deps.db, body)
        await cache.invalidate()
        set.status = 201
        return task
      },
      {
        auth: ['admin'],
        body: CreateTaskBody,
        response: { 201: Task, 401: Problem, 403: Problem, 409: Problem, 422: Problem },
        detail: { tags, summary: 'Admin: create a task' },
      },
    )
    .patch(
      '/:id',
      async ({ params, body }) => {
        const task = await updateTask(deps.db, params.id, body)
        await cache.invalidate()
        return task
      },
      {
        auth: ['admin'],
        params: IdParams,
        body: UpdateTaskBody,
        response: { 200: Task, 401: Problem, 403: Problem, 404: Problem, 422: Problem },
        detail: { tags, summary: 'Admin: change a task (grading mode applies to new submissions)' },
      },
    )
    .delete(
      '/:id',
      async ({ params, set }) => {
        await deleteTask(deps.db, params.id)
        await cache.invalidate()
        set.status = 204
      },
      {
        auth: ['admin'],
        params: IdParams,
        detail: { tags, summary: 'Admin: delete a task nobody has answered (409 otherwise)', ...NO_CONTENT },
      },
    )
}
