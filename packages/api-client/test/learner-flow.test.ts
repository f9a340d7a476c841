/**
 * The client generated from the OpenAPI snapshot completes a learner's flow against the real API and
 * worker processes (private PostgreSQL and Redis), standing in for the mobile app: register, log in,
 * list tasks, submit an essay, read its grade, refresh the tokens, and see a problem+json error.
 */
import { expect, test } from 'bun:test'
import { waitFor } from '../../../apps/api/test/support/processes'
import { useStack } from '../../../apps/api/test/support/stack'
import { createApiClient } from '../src'

const stack = useStack()

const ESSAY = `Nowadays many young people choose to study abroad instead of at a university in their own country. In my view, this experience has clear advantages, although it is not the right choice for everyone.

Firstly, students who live in another country must become independent quickly. They learn to manage their money, cook for themselves and solve problems without help from their parents. Moreover, they usually improve a foreign language much faster than they would at home.

On the other hand, studying abroad is expensive, and some students feel lonely and homesick during the first months. For example, a friend of mine almost gave up his course because he missed his family. However, most universities now offer support services which help international students to settle in.

In conclusion, I believe that studying abroad is a valuable opportunity for students who are ready for the challenge, but families should think carefully about the costs before they decide.`

test('register, log in, list tasks, submit, read the grade and refresh with the generated client', async () => {
  let accessToken: string | undefined
  const api = createApiClient(stack().apiUrl, { accessToken: () => accessToken })
  const email = `mobile-${crypto.randomUUID()}@example.test`
  const password = 'a long enough password'

  const registered = await api.POST('/v1/auth/register', { body: { email, password, displayName: 'Mobile learner' } })
  expect(registered.response.status).toBe(201)
  expect(registered.data?.email).toBe(email)

  const login = await api.POST('/v1/auth/login', { body: { email, password, client: 'mobile' } })
  if (!login.data?.refreshToken) throw new Error(`login failed: ${JSON.stringify(login.error)}`)
  accessToken = login.data.accessToken

  const me = await api.GET('/v1/me')
  expect(me.data?.email).toBe(email)

  const tasks = await api.GET('/v1/tasks', { params: { query: { skill: 'writing' } } })
  const task = tasks.data?.items.find((t) => t.part === 'writing_task_2')
  if (!task) throw new Error('no Task 2 in the catalogue')

  const submitted = await api.POST('/v1/submissions', {
    body: { taskId: task.id, answerText: ESSAY },
    params: { header: { 'Idempotency-Key': crypto.randomUUID() } },
  })
  if (!submitted.data) throw new Error(`submit failed: ${JSON.stringify(submitted.error)}`)
  const submissionId = submitted.data.id
  expect(submitted.response.status).toBe(202) // accepted for grading

  const graded = await waitFor(
    'the submission to be graded',
    async () => {
      const { data } = await api.GET('/v1/submissions/{id}', { params: { path: { id: submissionId } } })
      return data && ['completed', 'review_pending'].includes(data.status) ? data : undefined
    },
    60_000,
    stack().services,
  )
  const grade = graded.grades[0]
  expect(grade?.criteria.map((c) => c.criterion).sort()).toEqual(['grammar', 'organisation', 'task_fulfilment', 'vocabulary'])
  expect(grade!.overall).toBeGreaterThanOrEqual(0)
  expect(grade!.overall).toBeLessThanOrEqual(10)

  const refreshed = await api.POST('/v1/auth/refresh', { body: { refreshToken: login.data.refreshToken } })
  if (!refreshed.data) throw new Error(`refresh failed: ${JSON.stringify(refreshed.error)}`)
  expect(refreshed.data.refreshToken).not.toBe(login.data.refreshToken)
  accessToken = refreshed.data.accessToken
  expect((await api.GET('/v1/me')).data?.email).toBe(email)

  // Errors come back typed as problem+json.
  const missing = await api.GET('/v1/submissions/{id}', { params: { path: { id: crypto.randomUUID() } } })
  expect(missing.response.status).toBe(404)
  expect(missing.response.headers.get('content-type')).toContain('application/problem+json')
  expect(missing.error?.status).toBe(404)
}, 120_000)
