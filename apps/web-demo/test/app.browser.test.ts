/**
 * The web app in a real browser against the real stack: the API and the grading worker as their own
 * processes on a private PostgreSQL database and redis-server, the app's server in-process, Debian's
 * chromium driven by playwright-core (test/support/stack.ts). Waiting is Playwright's auto-waiting
 * on what the page shows (or polling with a deadline): no fixed sleeps. Every main page is
 * screenshotted at 1280 px and 390 px into apps/web-demo/screenshots/ (git-ignored), and at 390 px
 * no element may overflow the viewport.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Page } from 'playwright-core'
import type { GradeOrigin } from '@vstep/contracts'
import { waitFor } from '../../api/test/support/processes'
import { GRADE_ORIGIN_LABELS } from '../src/labels'
import { CHROMIUM, CHROMIUM_ARGS, openApp, shootAndCheckWidth, startStack, type Stack } from './support/stack'

/** Planted errors the offline scorer annotates ("she have", "can to", "has went"); ~170 words, auto mode completes it. */
const ESSAY = `Working from home is now normal for many workers in my city. My sister works for a bank and she have a lot of information about this. She can to stay at home three days a week, and she says it saves her a lot of time.

There are some advantages. Firstly, employees do not spend money on buses and petrol. Secondly, they can concentrate better because the house is quiet. For example, my sister has went home early every Friday and finishes her reports there.

However, there are also disadvantages. Teamwork can become weaker. Colleagues do not meet each other, it is hard to share ideas. Some employers worry that productivity falls when nobody checks the workers.

In my opinion, working from home is a good idea if companies organise it carefully. Teams should meet in the office once a week, and managers should trust their staff.`

/** Well below a Task 2 minimum of 250 words: a hybrid task sends it to a teacher (too_short). */
const SHORT_ANSWER = `Screens are part of modern life. Children use them for school and for fun. I think parents should set clear limits, such as no phones at dinner, so that children sleep well and still talk with their families every day.`

let stack: Stack

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`)
  stack = await startStack()
}, 90_000)

afterAll(async () => {
  await stack?.stop()
}, 30_000)

const PASSWORD = 'correct horse battery staple'

async function signUp(page: Page, name: string, email = `${name.toLowerCase().replaceAll(' ', '-')}-${crypto.randomUUID()}@example.test`) {
  await page.getByRole('button', { name: 'Create account' }).waitFor()
  await page.getByLabel('Display name').fill(name)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByText('Signed in as').waitFor()
  const [row] = await stack.sql<{ id: string }[]>`select id from users where email = ${email}`
  return { email, id: row!.id }
}

/** A seeded Task 2 in auto mode (one not changed by the admin test). */
async function autoTask2(): Promise<{ id: string; title: string }> {
  const [row] = await stack.sql<{ id: string; title: string }[]>`
    select id, title from tasks where part = 'writing_task_2' and grading_mode = 'auto' order by title limit 1`
  return row!
}

const statuses = (page: Page) => page.locator('#timeline li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.status))

const submitted = (page: Page) => page.waitForResponse((r) => r.url().endsWith('/v1/submissions') && r.request().method() === 'POST')

describe('web app against the real API and worker', () => {
  test('learner: sign up, write with live count, timer and autosave, submit, follow the status live, read the result with underlined feedback, see history and progress', async () => {
    const { context, page, errors } = await openApp(stack)
    expect(await shootAndCheckWidth(page, 'sign-in')).toEqual([])
    const me = await signUp(page, 'Essay Learner')

    // Catalogue by skill and part, with "practise next" (no graded attempts yet: a Task 1).
    await page.getByRole('heading', { name: 'Practice tasks' }).waitFor()
    const next = page.getByRole('region', { name: 'Practise next' })
    await next.getByRole('link', { name: /Writing Task 1/ }).waitFor()
    await page.getByRole('heading', { name: 'Task 2', level: 3 }).waitFor()
    expect(await shootAndCheckWidth(page, 'catalogue')).toEqual([])
    const task = await autoTask2()
    await page
      .getByRole('link', { name: new RegExp(task.title) })
      .first()
      .click()
    await page.waitForURL(`**/tasks/${task.id}`)

    // The editor: live word count against the minimum, a timer from the first keystroke.
    const timer = page.getByRole('timer')
    expect(await timer.textContent()).toMatch(/^\d+:00 · starts when you type$/)
    const answer = page.getByLabel('Your answer', { exact: true })
    await answer.fill('Three little words')
    await page.locator('#word-count', { hasText: /^3 words · minimum 250$/ }).waitFor()
    await timer.filter({ hasText: /^\d+:\d\d left$/ }).waitFor()
    await answer.fill(ESSAY)
    await page.locator('#word-count.short', { hasText: /^\d+ words · minimum 250$/ }).waitFor()
    const liveCount = Number((await page.locator('#word-count').textContent())!.split(' ')[0])

    // Autosave: the draft is on this device and survives a reload (no token is ever stored).
    await page.getByText('Draft saved on this device').waitFor()
    await page.reload()
    await expect(page.getByLabel('Your answer', { exact: true }).inputValue()).resolves.toBe(ESSAY)
    const stored = await page.evaluate(() => Object.keys(localStorage))
    expect(stored).toEqual([`vstep:draft:${me.id}:${task.id}`])
    expect(await shootAndCheckWidth(page, 'task')).toEqual([])

    // Submit: 202, the page moves to the submission and follows its stream.
    const created = submitted(page)
    await page.getByRole('button', { name: 'Submit for grading' }).click()
    const response = await created
    expect(response.status()).toBe(202)
    const submission = (await response.json()) as { id: string; wordCount: number }
    expect(submission.wordCount).toBe(liveCount) // the page counts words the way the API does
    await page.waitForURL(`**/submissions/${submission.id}`)
    expect(await page.evaluate(() => localStorage.length)).toBe(0) // the draft is cleared once sent

    // The real worker grades it; the page hears every step over SSE and then shows the grade.
    await page.locator('#overall').waitFor()
    expect(await statuses(page)).toEqual(['pending', 'processing', 'completed'])
    expect(await page.locator('#timeline li[data-status="processing"] .meta').textContent()).toContain('worker')
    const [grade] = await stack.sql<{ overall: number; cefr: string }[]>`
      select overall::float8 as overall from grades where submission_id = ${submission.id} and source = 'ai'`
    expect(await page.locator('#overall').textContent()).toBe(grade!.overall.toFixed(1))
    expect(await page.locator('#cefr').textContent()).toMatch(/^(B1|B2|C1|below B1)$/)
    const rows = page.locator('#criteria tr')
    expect(await rows.count()).toBe(4)
    expect(await rows.locator('th').allTextContents()).toEqual(['Task fulfilment', 'Organisation', 'Vocabulary', 'Grammar'])

    // The feedback underlined at its spans: every mark is exactly the text the API's offsets point at.
    const annotations = await stack.sql<{ start: number; end: number; message: string }[]>`
      select (a->>'start')::int as start, (a->>'end')::int as "end", a->>'message' as message
      from grades g join grade_criteria c on c.grade_id = g.id, jsonb_array_elements(c.annotations) a
      where g.submission_id = ${submission.id}`
    expect(annotations.length).toBeGreaterThanOrEqual(3)
    const marks = page.locator('mark.annotation')
    const markTexts = await marks.allTextContents()
    expect(markTexts).toEqual(expect.arrayContaining(['have', 'can to', 'went']))
    const spans = new Set(annotations.map((a) => ESSAY.slice(a.start, a.end)))
    for (const text of markTexts) expect(spans.has(text)).toBe(true)
    // Each mark is a link to its note (keyboard reachable) and is described by it.
    const first = page.locator('a.annotation-link').first()
    const noteId = (await first.getAttribute('aria-describedby')) ?? ''
    expect(await first.getAttribute('href')).toBe(`#${noteId}`)
    expect(await page.locator(`[id="${noteId}"]`).textContent()).toBeTruthy()
    // ...and the text is shown whole, every character once (the note numbers aside).
    const shown = await page.locator('.answer-text').evaluate((el) => {
      const copy = el.cloneNode(true) as HTMLElement
      for (const sup of copy.querySelectorAll('sup')) sup.remove()
      return copy.textContent
    })
    expect(shown).toBe(ESSAY)
    expect(await shootAndCheckWidth(page, 'result')).toEqual([])

    // History and progress: one graded Writing attempt, one chart point; filters narrow the list.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click()
    await page.locator('#progress [data-skill="writing"] .estimate', { hasText: 'Insufficient data (1 of 3 graded attempts)' }).waitFor()
    expect(await page.locator('#progress [data-skill="writing"] svg circle').count()).toBe(1)
    expect(await page.getByRole('img', { name: /^Writing scores out of 10, 1 graded attempt/ }).count()).toBe(1)
    await page.locator('.history-list li[data-status="completed"]').waitFor()
    await page.getByLabel('Status').selectOption('failed')
    await page.getByText('No submissions match these filters.').waitFor()
    await page.getByLabel('Status').selectOption('')
    await page.locator('.history-list li').first().waitFor()
    expect(await shootAndCheckWidth(page, 'history')).toEqual([])

    // "Practise next" now names the weakest criterion.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click()
    await page.getByRole('region', { name: 'Practise next' }).getByText('Your weakest criterion lately is').waitFor()
    expect(errors).toEqual([])
    await context.close()
  }, 90_000)

  test('a failed submission shows its reason and a retry, which grades it', async () => {
    const { context, page, errors } = await openApp(stack)
    await signUp(page, 'Retry Learner')
    const task = await autoTask2()
    await page.goto(`${stack.webUrl}/tasks/${task.id}`)
    await page.getByLabel('Your answer', { exact: true }).fill(ESSAY)
    // Deterministic failure through the real deadline sweeper: the worker is paused, so the job stays
    // queued; the deadline is moved into the past and the API's sweeper (every 250 ms here) fails it
    // with `timeout`, as it would a stuck job after 20 minutes.
    stack.pauseWorker(true)
    let id: string
    try {
      const created = submitted(page)
      await page.getByRole('button', { name: 'Submit for grading' }).click()
      id = ((await (await created).json()) as { id: string }).id
      await page.locator('#timeline li[data-status="pending"]').waitFor()
      await stack.sql`update submissions set deadline_at = now() - interval '1 second' where id = ${id}`
      const failure = page.locator('#failure')
      await failure.waitFor()
      expect(await failure.locator('.failure-reason').textContent()).toBe('Grading took longer than the deadline allows.')
      expect(await page.locator('#timeline li[data-status="failed"] .meta').textContent()).toContain('system:sweeper · timeout')
      expect(await page.getByRole('status').filter({ hasText: 'Status:' }).textContent()).toContain('Failed')
      expect(await shootAndCheckWidth(page, 'failed')).toEqual([])
    } finally {
      stack.pauseWorker(false)
    }
    // Retry: POST /v1/submissions/:id/retry (failed → pending); the page follows the stream again and the worker grades it.
    const retried = page.waitForResponse((r) => r.url().endsWith(`/v1/submissions/${id}/retry`))
    await page.getByRole('button', { name: 'Retry grading' }).click()
    expect((await retried).status()).toBe(202)
    await page.locator('#overall').waitFor()
    expect(await statuses(page)).toEqual(['pending', 'failed', 'pending', 'processing', 'completed'])
    expect(await page.locator('#failure').count()).toBe(0)
    expect(errors).toEqual([])
    await context.close()
  }, 60_000)

  test("hybrid review: an admin sets up the task and the instructor role, the instructor claims and grades, the learner's open page updates live", async () => {
    // Three people, three browser contexts (separate cookies and sessions).
    // The admin account is registered and promoted before its first sign-in, as scripts/create-admin.ts
    // does (a role changed behind the API's back would not reach sessions it already holds in memory).
    const adminEmail = `ada-admin-${crypto.randomUUID()}@example.test`
    const registered = await fetch(`${stack.apiUrl}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: adminEmail, password: PASSWORD, displayName: 'Ada Admin' }),
    })
    expect(registered.status).toBe(201)
    await stack.sql`update users set role = 'admin' where email = ${adminEmail}`
    const admin = await openApp(stack)
    await admin.page.getByRole('tab', { name: 'Sign in' }).click()
    await admin.page.getByLabel('Email').fill(adminEmail)
    await admin.page.getByLabel('Password').fill(PASSWORD)
    await admin.page.getByRole('button', { name: 'Sign in' }).click()
    await admin.page.getByText('Signed in as').waitFor()
    const instructor = await openApp(stack)
    const instructorUser = await signUp(instructor.page, 'Ian Instructor')
    const learner = await openApp(stack)
    const learnerUser = await signUp(learner.page, 'Lea Learner')

    // Admin: make the colleague an instructor (Users and roles)...
    const adminNav = admin.page.getByRole('navigation', { name: 'Main' })
    await adminNav.getByRole('link', { name: 'Admin' }).click()
    await admin.page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users and roles' }).click()
    // Found by the start of the email, in another case (GET /v1/admin/users), then chosen.
    await admin.page.getByLabel('Email starts with').fill(instructorUser.email.slice(0, 24).toUpperCase())
    await admin.page.getByLabel('Role filter').selectOption('learner')
    await admin.page.getByRole('button', { name: 'Search' }).click()
    // The list fills in when the search answers: wait for the expected row, then check it is the only one.
    await admin.page.locator(`.user-list li[data-user="${instructorUser.id}"]`).waitFor()
    expect(await admin.page.locator('.user-list li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.user))).toEqual([
      instructorUser.id,
    ])
    await admin.page.getByRole('button', { name: `Choose ${instructorUser.email}` }).click()
    await admin.page.getByLabel('Role', { exact: true }).selectOption('instructor')
    await admin.page.getByRole('button', { name: 'Save role' }).click()
    await admin.page.getByText('Ian Instructor is now instructor.').waitFor()
    expect(await shootAndCheckWidth(admin.page, 'admin-users')).toEqual([])

    // ...and switch a Task 2 to hybrid grading (Task catalogue).
    const [task] = await stack.sql<{ id: string; title: string }[]>`
      select id, title from tasks where part = 'writing_task_2' and grading_mode = 'auto' order by title desc limit 1`
    await admin.page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Tasks' }).click()
    await admin.page.getByRole('button', { name: `Edit ${task!.title}` }).click()
    await admin.page.getByLabel('Grading mode').selectOption('hybrid')
    await admin.page.getByRole('button', { name: 'Save task' }).click()
    await admin.page.getByText(`Saved “${task!.title}”.`).waitFor()
    await admin.page.locator(`tr[data-task="${task!.id}"] td`, { hasText: 'hybrid' }).waitFor() // the list reloaded
    expect(await shootAndCheckWidth(admin.page, 'admin-tasks')).toEqual([])

    // Admin: a dead letter (a submission the providers gave up on; written here as the worker writes
    // it) is re-queued from the Dead letters page, and the real worker then grades it.
    const auto = await autoTask2()
    const [dead] = await stack.sql<{ id: string }[]>`
      insert into submissions (user_id, task_id, skill, status, grading_mode, answer_text, word_count, last_error_code)
      values (${learnerUser.id}, ${auto.id}, 'writing', 'failed', 'auto', ${ESSAY}, 150, 'provider_unavailable') returning id`
    await stack.sql`insert into dead_letters (submission_id, provider, reason, attempts, last_error)
      values (${dead!.id}, 'openai', 'provider_unavailable', 4, 'timeout after 30 s')`
    await admin.page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Dead letters' }).click()
    const letter = admin.page.locator(`li[data-submission="${dead!.id}"]`)
    await letter.waitFor()
    expect(await letter.textContent()).toContain('The grading service was unavailable.')
    expect(await shootAndCheckWidth(admin.page, 'dead-letters')).toEqual([])
    await letter.getByRole('button', { name: /^Re-queue the submission/ }).click()
    await admin.page.getByText('Re-queued: the submission is pending again.').waitFor()
    await admin.page.getByText('No dead letters').waitFor()
    await waitFor('the re-queued submission to be graded', async () => {
      const [row] = await stack.sql<{ status: string }[]>`select status from submissions where id = ${dead!.id}`
      return row?.status === 'completed' ? true : undefined
    })

    // Learner: a short answer to the hybrid task goes to a teacher; the page says what happens next.
    await learner.page.goto(`${stack.webUrl}/tasks/${task!.id}`)
    await learner.page.getByLabel('Your answer', { exact: true }).fill(SHORT_ANSWER)
    const created = submitted(learner.page)
    await learner.page.getByRole('button', { name: 'Submit for grading' }).click()
    const { id } = (await (await created).json()) as { id: string }
    await learner.page.locator('#review-note').waitFor()
    expect(await learner.page.locator('#review-note').textContent()).toContain('A teacher will grade this answer')
    expect(await learner.page.locator('.status-badge').textContent()).toBe('In review')
    expect(await shootAndCheckWidth(learner.page, 'review-pending')).toEqual([])

    // Instructor: the queue, claim the next one (this one), release and claim again, grade it.
    await instructor.page.reload()
    await instructor.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reviews' }).click()
    await instructor.page.locator(`.queue li[data-submission="${id}"]`).waitFor()
    expect(await shootAndCheckWidth(instructor.page, 'review-queue')).toEqual([])
    await instructor.page.getByRole('button', { name: 'Claim next' }).click()
    await instructor.page.waitForURL(`**/reviews/${id}`)
    await instructor.page.locator('#claim-state', { hasText: 'claimed by you' }).waitFor()
    await instructor.page.getByRole('button', { name: 'Release' }).click()
    await instructor.page.locator('#claim-state', { hasText: 'unclaimed' }).waitFor()
    await instructor.page.getByRole('button', { name: 'Claim' }).click()
    await instructor.page.locator('#claim-state', { hasText: 'claimed by you' }).waitFor()
    expect(await instructor.page.locator('#review-answer').textContent()).toBe(SHORT_ANSWER)
    await instructor.page.getByRole('heading', { name: 'AI draft' }).waitFor()
    const scores = { 'Task fulfilment': '6.5', Organisation: '6', Vocabulary: '5.5', Grammar: '6' }
    for (const [criterion, score] of Object.entries(scores)) await instructor.page.getByLabel(`${criterion} score (0–10)`).fill(score)
    await instructor.page.getByLabel('Grammar feedback').fill('Check the verb forms.')
    await instructor.page.getByLabel('Comment for the learner').fill('Clear position; develop each point with an example.')
    expect(await shootAndCheckWidth(instructor.page, 'review')).toEqual([])
    await instructor.page.getByRole('button', { name: 'Submit final grade' }).click()
    await instructor.page.locator('#review-done').waitFor()

    // The learner's open page (no reload) hears `completed` and shows the teacher's grade: mean 6.0, B2.
    await learner.page.locator('#overall', { hasText: '6.0' }).waitFor()
    expect(await learner.page.locator('#cefr').textContent()).toBe('B2')
    expect(await learner.page.locator('#reviewer-comment').textContent()).toContain('Clear position; develop each point with an example.')
    expect(await learner.page.locator('#criteria tr[data-criterion="grammar"]').textContent()).toContain('Check the verb forms.')
    expect((await statuses(learner.page)).slice(-2)).toEqual(['review_pending', 'completed'])
    expect(await learner.page.locator('#timeline li').last().locator('.meta').textContent()).toContain('review')

    // A spot check (docs/lifecycle.md): the re-queued submission is `completed` with its AI grade, whose
    // origin the page names; its page stays open and live, and the teacher's later grade replaces it there.
    await stack.sql`insert into reviews (submission_id, priority, reason) values (${dead!.id}, 'low', 'spot_check')`
    await learner.page.goto(`${stack.webUrl}/submissions/${dead!.id}`)
    const [aiGrade] = await stack.sql<{ overall: number; origin: GradeOrigin }[]>`
      select overall::float8 as overall, origin from grades where submission_id = ${dead!.id} and source = 'ai'`
    await learner.page.locator('#overall', { hasText: aiGrade!.overall.toFixed(1) }).waitFor()
    expect(await learner.page.locator('#grade-source').textContent()).toBe(GRADE_ORIGIN_LABELS[aiGrade!.origin])
    await learner.page.locator('#connection', { hasText: 'This page stays live' }).waitFor()
    await instructor.page.goto(`${stack.webUrl}/reviews/${dead!.id}`)
    await instructor.page.getByRole('button', { name: 'Claim' }).click()
    await instructor.page.locator('#claim-state', { hasText: 'claimed by you' }).waitFor()
    for (const criterion of Object.keys(scores)) await instructor.page.getByLabel(`${criterion} score (0–10)`).fill('9')
    await instructor.page.getByRole('button', { name: 'Submit final grade' }).click()
    await instructor.page.locator('#review-done').waitFor()
    await learner.page.locator('#overall', { hasText: '9.0' }).waitFor()
    expect(await learner.page.locator('#grade-source').textContent()).toBe('Graded by a teacher')
    const origins = await learner.page.locator('#grade-origins li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.source))
    expect(origins).toEqual(['ai', 'human'])
    expect((await statuses(learner.page)).slice(-2)).toEqual(['completed', 'completed'])
    expect(await learner.page.locator('#timeline li').last().textContent()).toContain('Reviewed — a teacher checked your score')
    for (const who of [admin, instructor, learner]) {
      expect(who.errors).toEqual([])
      await who.context.close()
    }
  }, 90_000)

  test('web session: problem+json under the fields, the httpOnly cookie survives a reload, an expired token is renewed once, sign out ends it', async () => {
    const { context, page, errors } = await openApp(stack)
    const apiCookies = () => context.cookies(`${stack.apiUrl}/v1/auth/refresh`)
    expect(await apiCookies()).toEqual([])
    // A too-short password: the 422's field error sits under the field, which is marked invalid.
    await page.getByLabel('Email').fill(`short-${crypto.randomUUID()}@example.test`)
    await page.getByLabel('Password').fill('short')
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.locator('#password-error:not(:empty)').waitFor()
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true')
    expect(await page.locator('#auth-problem').getAttribute('data-status')).toBe('422')

    const login = page.waitForResponse((r) => r.url() === `${stack.apiUrl}/v1/auth/login`)
    await page.getByLabel('Password').fill('')
    await signUp(page, 'Session Learner')
    expect((await login).request().postDataJSON()).toMatchObject({ client: 'web' })
    expect(await (await login).json()).not.toHaveProperty('refreshToken')
    const [cookie] = await apiCookies()
    expect(cookie).toMatchObject({ name: 'vstep_refresh', path: '/v1/auth', httpOnly: true, sameSite: 'Strict' })
    expect(await page.evaluate(() => [document.cookie, sessionStorage.length, localStorage.length])).toEqual(['', 0, 0])

    // An "expired" access token: the next GET /v1/progress/next-task answers 401 once; the page
    // refreshes with the cookie, retries, and the learner stays signed in.
    let refused = 0
    await page.route(`${stack.apiUrl}/v1/progress/next-task`, async (route) => {
      if (refused++ > 0) return route.continue()
      await route.fulfill({
        status: 401,
        contentType: 'application/problem+json',
        headers: { 'access-control-allow-origin': stack.webUrl, 'access-control-allow-credentials': 'true', vary: 'Origin' },
        body: JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'the access token has expired' }),
      })
    })
    const refreshes: number[] = []
    page.on('response', (r) => {
      if (r.url() === `${stack.apiUrl}/v1/auth/refresh`) refreshes.push(r.status())
    })
    await page.reload()
    await page.getByRole('region', { name: 'Practise next' }).waitFor()
    expect(refused).toBe(2) // the refused call and its retry
    expect(refreshes).toEqual([200, 200]) // on load, then once for the 401
    expect(await page.locator('.account-name').textContent()).toBe('Session Learner')
    const [rotated] = await apiCookies()
    expect(rotated!.value).not.toBe(cookie!.value)
    await page.unroute(`${stack.apiUrl}/v1/progress/next-task`)

    // Sign out: the server ends the session and clears the cookie; a reload shows the form.
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('button', { name: 'Create account' }).waitFor()
    expect(await apiCookies()).toEqual([])
    await page.reload()
    await page.getByRole('button', { name: 'Create account' }).waitFor()
    const replay = await fetch(`${stack.apiUrl}/v1/auth/refresh`, {
      method: 'POST',
      headers: { origin: stack.webUrl, cookie: `vstep_refresh=${rotated!.value}` },
    })
    expect(replay.status).toBe(401)
    expect(errors).toEqual([])
    await context.close()
  }, 60_000)

  test('speaking: record from the (fake) microphone, play back, record again, upload, and the worker completes it with a transcript', async () => {
    // Chromium's fake microphone plays a WAV of synthesised speech (espeak-ng, as the API's speaking e2e uses).
    const dir = mkdtempSync(join(tmpdir(), 'vstep-web-speech-'))
    const raw = join(dir, 'speech-raw.wav')
    const wav = join(dir, 'speech.wav')
    const spoken =
      'I live in a small town near the sea. In my free time I like reading books and walking with my friends. At the weekend we often cook together and talk about our plans.'
    for (const cmd of [
      ['espeak-ng', '-v', 'en-us+f2', '-s', '150', '-w', raw, spoken],
      ['ffmpeg', '-nostdin', '-v', 'error', '-y', '-i', raw, '-ar', '48000', '-ac', '1', '-c:a', 'pcm_s16le', wav],
    ]) {
      const done = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' })
      if (done.exitCode !== 0) throw new Error(`${cmd[0]} failed: ${done.stderr.toString()}`)
    }
    // The fake microphone loops the file: a take 2 s longer than the file holds every phrase of it whole,
    // wherever in the loop the recording starts.
    const seconds = Math.ceil((Bun.file(wav).size - 44) / 2 / 48_000) + 2
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}`,
      ],
    })
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      const page = await context.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
      await page.goto(stack.webUrl)
      await signUp(page, 'Speaking Learner')
      // Speaking tasks are seeded hybrid, and an offline speaking grade is never confident (pronunciation
      // is not heard), so it would wait for a teacher: this task is set to auto, as an admin can.
      const [task] = await stack.sql<{ id: string }[]>`
        update tasks set grading_mode = 'auto' where id = (select id from tasks where part = 'speaking_part_1' order by title limit 1) returning id`
      await page.goto(`${stack.webUrl}/tasks/${task!.id}`)

      // Part 1 has no preparation: Start records at once; a first take is thrown away with "Record again".
      await page.getByRole('button', { name: 'Start' }).click()
      await page.getByRole('timer', { name: 'Speaking time left' }).waitFor()
      await page.getByRole('button', { name: 'Stop recording' }).click()
      await page.getByLabel('Your recording').waitFor()
      await page.getByRole('button', { name: 'Record again' }).click()
      await page.getByRole('button', { name: 'Start' }).click()
      // Speak for as long as the file lasts (the countdown's elapsed seconds, polled), then stop.
      await page.waitForFunction(
        (s) => Number((document.querySelector('#speak-countdown') as HTMLElement | null)?.dataset.elapsed) >= s,
        seconds,
        { timeout: 60_000 },
      )
      expect(await shootAndCheckWidth(page, 'speaking-recording')).toEqual([])
      await page.getByRole('button', { name: 'Stop recording' }).click()
      const player = page.getByLabel('Your recording')
      await player.waitFor()
      expect(await player.evaluate((a) => (a as HTMLAudioElement).src.startsWith('blob:'))).toBe(true)

      const created = submitted(page)
      await page.getByRole('button', { name: 'Send for grading' }).click()
      const response = await created
      expect(response.status()).toBe(202)
      expect(response.request().headers()['content-type']).toMatch(/^multipart\/form-data; boundary=/)
      const { id } = (await response.json()) as { id: string }
      await page.waitForURL(`**/submissions/${id}`)
      // The recording plays back from the API (private route, fetched with the token)...
      await page.locator('audio#recording').waitFor()
      // ...and the worker transcribes and grades it.
      await page.locator('#overall').waitFor({ timeout: 60_000 })
      expect(await page.locator('#criteria tr').count()).toBe(5)
      // The transcript, with the feedback marks and their note numbers taken out.
      const transcript = await page.locator('.answer-text').evaluate((el) => {
        const copy = el.cloneNode(true) as HTMLElement
        for (const sup of copy.querySelectorAll('sup')) sup.remove()
        return copy.textContent ?? ''
      })
      expect(transcript.toLowerCase()).toContain('free time')
      expect(await shootAndCheckWidth(page, 'speaking-result')).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await browser.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
