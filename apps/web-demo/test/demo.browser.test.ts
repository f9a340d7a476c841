/**
 * The web demo in a real browser against a real API: a private PostgreSQL database and Redis
 * (the API's own test support), the API listening on a socket, the demo server serving the page,
 * and Debian's chromium driven by playwright-core. The Python grader is not part of this stack, so
 * the test plays its part in SQL, the way the worker writes: status changes under
 * `vstep.actor = 'worker'`, then a grade with its criteria.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { createTestContext, type TestContext } from '../../api/test/support/context'
import { freePort } from '../../api/test/support/redis-server'
import { startDemoServer } from '../src/server'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const ESSAY = `Nowadays children spend many hours every day in front of phones, tablets and televisions.
In my opinion, too much screen time causes real problems, but families and schools can reduce them.

Firstly, children who look at screens for hours often sleep badly and do less exercise, which harms
their health. Secondly, many of them find it harder to concentrate in class, because games and short
videos train them to expect something new every few seconds. They may also spend less time talking
with their parents and friends face to face.

However, these problems can be solved. Parents can agree on clear rules, for example no phones at the
dinner table or in the bedroom at night. Schools can teach pupils how to use technology for learning
rather than only for entertainment, and they can offer more sports and clubs after lessons.

In conclusion, screen time is not harmful in itself, but it must be limited. If families and schools
work together, children can enjoy technology and still grow up healthy and sociable.`

let ctx: TestContext
let demo: ReturnType<typeof startDemoServer>
let browser: Browser
let demoUrl: string
let apiUrl: string
const shots = mkdtempSync(join(tmpdir(), 'vstep-web-demo-'))

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`)
  // The demo's origin must be known before the API's config is built (CORS_ORIGINS).
  const demoPort = freePort()
  demoUrl = `http://127.0.0.1:${demoPort}`
  // Every page load refreshes from 127.0.0.1, and the tests sign in several times: lift the per-IP
  // quotas (5 logins, 10 refreshes a minute) out of the way; the limiter has tests of its own.
  ctx = await createTestContext({ CORS_ORIGINS: demoUrl, RATE_LIMIT_LOGIN: '100', RATE_LIMIT_REGISTER: '100', RATE_LIMIT_REFRESH: '100' })
  ctx.app.listen({ port: 0, hostname: '127.0.0.1' })
  apiUrl = `http://127.0.0.1:${ctx.app.server!.port}`
  demo = startDemoServer({ port: demoPort, hostname: '127.0.0.1', apiUrl, development: false })
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await demo?.stop(true)
  await ctx?.app.stop(true) // true: close the open SSE streams too
  await ctx?.close()
  // Screenshots are for looking at while developing; keep them only when asked.
  if (!process.env.KEEP_SCREENSHOTS) rmSync(shots, { recursive: true, force: true })
}, 30_000)

/** A fresh page with console errors and failed requests collected, so a broken bundle fails loudly. */
async function openDemo(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } })
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    // Chromium logs every non-2xx response; the expected ones (422, 401) are asserted on the page instead.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`)
  })
  await page.goto(demoUrl)
  await page.getByRole('heading', { name: /practise/ }).waitFor()
  return { page, errors }
}

async function signUp(page: Page, email: string) {
  await page.getByLabel('Display name').fill('Browser Learner')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill('correct horse battery staple')
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByText('Signed in as').waitFor()
}

/** What the Python worker does, in its own transactions: claim, then write the grade and complete. */
async function workerStartsGrading(submissionId: string) {
  await ctx.deps.sql.begin(async (tx) => {
    await tx`select set_config('vstep.actor', 'worker', true)`
    await tx`update submissions set status = 'processing', attempts = attempts + 1 where id = ${submissionId}`
  })
}

async function workerCompletes(submissionId: string, overall = 6.5) {
  const criteria = [
    ['task_fulfilment', 7, 'All parts of the task are addressed with relevant support.'],
    ['organisation', 6.5, 'Clear paragraphing; linking words could be more varied.'],
    ['vocabulary', 6, 'Adequate range with a few repetitions.'],
    ['grammar', 6.5, 'Mostly accurate complex sentences.'],
  ] as const
  await ctx.deps.sql.begin(async (tx) => {
    await tx`select set_config('vstep.actor', 'worker', true)`
    const [grade] = await tx<{ id: string }[]>`
      insert into grades (submission_id, source, overall, feedback, provider, model, rubric_version, confidence)
      values (${submissionId}, 'ai', ${overall}, 'A well-organised essay with a clear position.', 'test', 'fake-grader', 'vstep-writing-v1', 0.9)
      returning id`
    for (const [criterion, score, feedback] of criteria) {
      await tx`insert into grade_criteria (grade_id, criterion, score, feedback) values (${grade!.id}, ${criterion}, ${score}, ${feedback})`
    }
    await tx`update submissions set status = 'completed' where id = ${submissionId}`
  })
}

const isAuth = (path: string) => (r: { url(): string; request(): { method(): string } }) =>
  r.url() === `${apiUrl}/v1/auth/${path}` && r.request().method() === 'POST'

/** The browser's cookies for the API's auth routes (the refresh cookie is scoped to Path=/v1/auth). */
const apiCookies = (page: Page) => page.context().cookies(`${apiUrl}/v1/auth/refresh`)

const writingEstimate = (page: Page) => page.locator('#progress [data-skill="writing"] .estimate')

/** Submits the essay to the selected task through the page, plays the worker, and waits for the score. */
async function submitAndGrade(page: Page, overall: number) {
  await page.getByLabel('Your answer').fill(ESSAY)
  const created = page.waitForResponse((r) => r.url().endsWith('/v1/submissions') && r.request().method() === 'POST')
  await page.getByRole('button', { name: 'Submit for grading' }).click()
  const { id } = (await (await created).json()) as { id: string }
  await page.locator('#connection', { hasText: 'Live' }).waitFor()
  await workerStartsGrading(id)
  await page.locator('#timeline li[data-status="processing"]').waitFor()
  await workerCompletes(id, overall)
  await page.locator('#overall', { hasText: overall.toFixed(1) }).waitFor()
}

describe('web demo in a browser', () => {
  test('shows problem+json errors next to the form: per-field errors and the detail', async () => {
    const { page, errors } = await openDemo()
    // Too-short password: the API answers 422 with errors[{field:'password'}].
    await page.getByLabel('Email').fill(`short-${crypto.randomUUID()}@example.test`)
    await page.getByLabel('Password').fill('short')
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.locator('#password-error:not(:empty)').waitFor()
    expect(await page.locator('#password-error').textContent()).toMatch(/8/)
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true')
    expect(await page.locator('#auth-problem').getAttribute('data-status')).toBe('422')

    // Wrong credentials: 401, the `detail` appears in the alert box.
    await page.getByRole('tab', { name: 'Sign in' }).click()
    await page.getByLabel('Email').fill('nobody@example.test')
    await page.getByLabel('Password').fill('not the password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('#auth-problem[data-status="401"]').waitFor()
    const alert = page.getByRole('alert').filter({ hasText: 'Unauthorized' })
    await alert.waitFor()
    expect(await alert.locator('.detail').textContent()).toBeTruthy()
    expect(errors).toEqual([])
    await page.close()
  }, 30_000)

  test('sign up, pick a task, submit, follow the live status and see the score', async () => {
    const { page, errors } = await openDemo()
    await signUp(page, `browser-${crypto.randomUUID()}@example.test`)
    // A new learner: the progress panel has nothing to estimate yet.
    await writingEstimate(page).filter({ hasText: 'Insufficient data (0 of 3 graded attempts)' }).waitFor()

    // The catalogue: a Writing task with its prompt and minimum words.
    const taskSelect = page.getByLabel('Task', { exact: true })
    await page.locator('#task option').first().waitFor({ state: 'attached' })
    const task2 = await page.locator('#task option', { hasText: 'Task 2' }).first().getAttribute('value')
    await taskSelect.selectOption(task2!)
    await page.locator('#task-meta', { hasText: 'at least 250 words' }).waitFor()
    expect((await page.locator('#task-prompt').textContent())?.length).toBeGreaterThan(20)

    // Live word count.
    await page.getByLabel('Your answer').fill('Three little words')
    await page.locator('#word-count', { hasText: '3 words' }).waitFor()
    await page.getByLabel('Your answer').fill(ESSAY)
    await page.locator('#word-count.short', { hasText: /^\d+ words · minimum 250$/ }).waitFor()
    const liveCount = Number((await page.locator('#word-count').textContent())!.split(' ')[0])

    await page.screenshot({ path: join(shots, 'practice.png'), fullPage: true })

    // Submit: the API answers 202 and the page opens the SSE stream through Eden.
    const created = page.waitForResponse((r) => r.url().endsWith('/v1/submissions') && r.request().method() === 'POST')
    await page.getByRole('button', { name: 'Submit for grading' }).click()
    const submission = (await (await created).json()) as { id: string; status: string; wordCount: number }
    expect(submission.status).toBe('pending')
    expect(submission.wordCount).toBe(liveCount) // the page counts words the way the API does
    await page.locator('#timeline li[data-status="pending"]').waitFor()
    await page.locator('#connection', { hasText: 'Live' }).waitFor()

    // The "worker" claims the job: the page hears it live, over the open stream.
    await workerStartsGrading(submission.id)
    await page.locator('#timeline li[data-status="processing"]').waitFor()
    expect(await page.locator('#timeline li[data-status="processing"] .meta').textContent()).toContain('worker')
    expect(await page.locator('#score').isVisible()).toBe(false)

    // ...and finishes: the stream ends at `completed`, the page fetches the grade.
    await workerCompletes(submission.id)
    await page.locator('#timeline li[data-status="completed"]').waitFor()
    await page.locator('#score').waitFor({ state: 'visible' })
    expect(await page.locator('#overall').textContent()).toBe('6.5')
    expect(await page.locator('#cefr').textContent()).toBe('B2')
    const rows = page.locator('#criteria tr')
    expect(await rows.count()).toBe(4)
    expect(await rows.first().textContent()).toContain('Task fulfilment7.0All parts of the task')
    expect(await page.locator('#timeline li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.status))).toEqual([
      'pending',
      'processing',
      'completed',
    ])

    // The progress panel is refreshed after the grade: one graded Writing attempt, one point.
    await writingEstimate(page).filter({ hasText: 'Insufficient data (1 of 3 graded attempts)' }).waitFor()
    expect(await page.locator('#progress [data-skill="writing"] svg circle').count()).toBe(1)

    const shot = join(shots, 'completed.png')
    await page.screenshot({ path: shot, fullPage: true })
    console.log(`screenshot: ${shot}`)
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)

  test('a failed grading is final: the page stops following, says so and offers a new attempt', async () => {
    const { page, errors } = await openDemo()
    await signUp(page, `failed-${crypto.randomUUID()}@example.test`)
    await page.locator('#task option').first().waitFor({ state: 'attached' })
    const task2 = await page.locator('#task option', { hasText: 'Task 2' }).first().getAttribute('value')
    await page.getByLabel('Task', { exact: true }).selectOption(task2!)
    await page.getByLabel('Your answer').fill(ESSAY)
    const created = page.waitForResponse((r) => r.url().endsWith('/v1/submissions') && r.request().method() === 'POST')
    await page.getByRole('button', { name: 'Submit for grading' }).click()
    const submission = (await (await created).json()) as { id: string }
    await page.locator('#connection', { hasText: 'Live' }).waitFor()
    await workerStartsGrading(submission.id)
    await page.locator('#timeline li[data-status="processing"]').waitFor()
    expect(await page.locator('#again').isVisible()).toBe(false)

    // The worker gives up for good (auto mode): processing → failed. The API's stream stays open
    // (a failed submission can be retried), so only the page's own final-status check ends the wait.
    await ctx.deps.sql.begin(async (tx) => {
      await tx`select set_config('vstep.actor', 'worker', true)`
      await tx`update submissions set status = 'failed', last_error_code = 'internal_error' where id = ${submission.id}`
    })
    await page.locator('#timeline li[data-status="failed"]').waitFor()
    await page.locator('#connection', { hasText: 'Grading failed' }).waitFor()
    await page.locator('#again').waitFor({ state: 'visible' })
    expect(await page.locator('#score').isVisible()).toBe(false)
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)

  test('progress: insufficient data below 3 graded attempts, then the estimated band, CEFR level and a 3-point chart', async () => {
    const { page, errors } = await openDemo()
    await signUp(page, `progress-${crypto.randomUUID()}@example.test`)
    await page.locator('#task option').first().waitFor({ state: 'attached' })
    const task2 = await page.locator('#task option', { hasText: 'Task 2' }).first().getAttribute('value')
    await page.getByLabel('Task', { exact: true }).selectOption(task2!)

    const panel = page.getByRole('region', { name: 'Your progress' })
    await panel.waitFor()
    await writingEstimate(page).filter({ hasText: 'Insufficient data (0 of 3 graded attempts)' }).waitFor()
    expect(await panel.locator('[data-skill="writing"]').textContent()).toContain('No graded attempts yet.')

    // Three graded Writing attempts; the panel follows each completed grade.
    const scores = [4.5, 6, 8]
    for (const [i, score] of scores.entries()) {
      const progress = page.waitForResponse((r) => r.url().endsWith('/v1/progress') && r.ok())
      await submitAndGrade(page, score)
      await progress
      if (i < 2) {
        await writingEstimate(page).filter({ hasText: `Insufficient data (${i + 1} of 3 graded attempts)` }).waitFor()
        expect(await panel.locator('[data-skill="writing"] svg circle').count()).toBe(i + 1)
        expect(await writingEstimate(page).getAttribute('data-status')).toBe('insufficient_data')
      }
      await page.getByRole('button', { name: 'Write another answer' }).click()
    }

    // Three attempts: mean(4.5, 6.0, 8.0) = 6.17, rounded to 0.5 = 6.0, B2 (all Task 2, so a plain mean).
    const estimate = page.locator('#progress [data-skill="writing"] .estimate[data-status="estimated"]')
    await estimate.waitFor()
    expect(await estimate.locator('.band').textContent()).toBe('6.0')
    expect(await estimate.locator('.level').textContent()).toBe('B2')
    expect(await estimate.textContent()).toContain('last 3 graded attempts')

    const chart = panel.getByRole('img', { name: /^Writing scores/ })
    expect(await chart.getAttribute('aria-label')).toBe(
      'Writing scores out of 10, 3 graded attempts, oldest first: 4.5, 6.0, 8.0. Latest 8.0, up 3.5 since the first; best 8.0.',
    )
    expect(await chart.locator('circle').count()).toBe(3)
    expect(await chart.locator('text.point-label').allTextContents()).toEqual(['4.5', '6.0', '8.0'])
    expect(await chart.locator('line.guide').count()).toBe(3)
    expect(await chart.locator('text.guide-label').allTextContents()).toEqual(['B1', 'B2', 'C1'])
    // Higher scores are drawn higher up.
    const ys = await chart.locator('circle').evaluateAll((els) => els.map((e) => Number(e.getAttribute('cy'))))
    expect(ys[0]!).toBeGreaterThan(ys[1]!)
    expect(ys[1]!).toBeGreaterThan(ys[2]!)
    // The visually hidden fallback table carries the same series.
    const rows = panel.getByRole('table', { name: 'Writing: graded attempts, oldest first' }).locator('tbody tr')
    expect(await rows.count()).toBe(3)
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.children[3]!.textContent + ' ' + tr.children[4]!.textContent))).toEqual([
      '4.5 B1',
      '6.0 B2',
      '8.0 B2',
    ])

    // Speaking has no attempts, so there is no overall estimate yet.
    expect(await page.locator('#progress [data-skill="speaking"] .estimate').textContent()).toBe('Insufficient data (0 of 3 graded attempts)')
    expect(await page.locator('#progress-overall').getAttribute('data-status')).toBe('insufficient_data')
    expect(await page.locator('#progress-overall').textContent()).toContain('Insufficient data')

    const shot = join(shots, 'progress.png')
    await panel.scrollIntoViewIfNeeded()
    await page.screenshot({ path: shot, fullPage: true })
    console.log(`screenshot: ${shot}`)
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)

  test('web session: the httpOnly refresh cookie survives a reload, an expired access token is renewed, sign out ends it', async () => {
    const { page, errors } = await openDemo()
    // A fresh browser context has no cookie: the page's refresh on load gets 401 and the form shows.
    expect(await apiCookies(page)).toEqual([])
    await page.getByRole('button', { name: 'Create account' }).waitFor()
    expect(await page.locator('#account').isHidden()).toBe(true) // no "Signed in as" while signed out

    const loginResponse = page.waitForResponse(isAuth('login'))
    await signUp(page, `session-${crypto.randomUUID()}@example.test`)
    const login = await loginResponse
    expect(login.status()).toBe(200)
    expect(login.request().postDataJSON()).toMatchObject({ client: 'web' })
    expect(await login.json()).not.toHaveProperty('refreshToken') // the cookie carries it, not the JSON

    // The browser stored the API's cookie although the page is on another port (same site)...
    const [cookie] = await apiCookies(page)
    expect(cookie).toMatchObject({ name: 'vstep_refresh', domain: '127.0.0.1', path: '/v1/auth', httpOnly: true, secure: false, sameSite: 'Strict' })
    // ...and neither the cookie nor the access token is visible to the page's scripts.
    expect(await page.evaluate(() => document.cookie)).toBe('')
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([0, 0])

    // Reload: nothing in storage, the session comes back from the cookie.
    const restored = page.waitForResponse(isAuth('refresh'))
    await page.reload()
    const refresh = await restored
    expect(refresh.status()).toBe(200)
    expect(await refresh.request().headerValue('origin')).toBe(demoUrl)
    expect(refresh.request().postData()).toBeNull() // no token in the body
    await page.getByText('Signed in as').waitFor()
    expect(await page.locator('#account-name').textContent()).toBe('Browser Learner')
    await page.locator('#task option').first().waitFor({ state: 'attached' })
    expect(await page.locator('#auth').isHidden()).toBe(true)
    const [rotated] = await apiCookies(page)
    expect(rotated!.value).not.toBe(cookie!.value) // every refresh rotates the token

    // The access token "expires": the next /v1/progress answers 401 once. The page refreshes with
    // the cookie and retries, and the learner stays signed in.
    let refused = 0
    await page.route(`${apiUrl}/v1/progress`, async (route) => {
      if (route.request().method() !== 'GET' || refused++ > 0) return route.continue()
      await route.fulfill({
        status: 401,
        contentType: 'application/problem+json',
        headers: { 'access-control-allow-origin': demoUrl, 'access-control-allow-credentials': 'true', vary: 'Origin' },
        body: JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'the access token has expired' }),
      })
    })
    const refreshes: number[] = []
    page.on('response', (r) => {
      if (isAuth('refresh')(r)) refreshes.push(r.status())
    })
    const progressOk = page.waitForResponse((r) => r.url() === `${apiUrl}/v1/progress` && r.ok())
    await page.reload()
    await progressOk
    await writingEstimate(page).filter({ hasText: 'Insufficient data (0 of 3 graded attempts)' }).waitFor()
    expect(refused).toBe(2) // the refused call and its retry
    expect(refreshes).toEqual([200, 200]) // on load, then once for the 401
    expect(await page.getByText('Signed in as').isVisible()).toBe(true)
    await page.unroute(`${apiUrl}/v1/progress`)

    // Sign out: the cookie logout ends the session and clears the cookie.
    const logoutResponse = page.waitForResponse(isAuth('logout'))
    await page.getByRole('button', { name: 'Sign out' }).click()
    const logout = await logoutResponse
    expect(logout.status()).toBe(204)
    expect(await logout.request().headerValue('origin')).toBe(demoUrl)
    await page.getByRole('button', { name: 'Create account' }).waitFor()
    expect(await apiCookies(page)).toEqual([])

    // Reload: no cookie, the refresh answers 401, the sign-in form shows.
    const afterLogout = page.waitForResponse(isAuth('refresh'))
    await page.reload()
    expect((await afterLogout).status()).toBe(401)
    await page.getByRole('button', { name: 'Create account' }).waitFor()
    expect(await page.locator('#account').isHidden()).toBe(true)

    // The old refresh token is dead on the server too (the session was ended, not just forgotten).
    const replay = await fetch(`${apiUrl}/v1/auth/refresh`, { method: 'POST', headers: { origin: demoUrl, cookie: `vstep_refresh=${rotated!.value}` } })
    expect(replay.status).toBe(401)
    expect(errors).toEqual([])
    await page.close()
  }, 60_000)
})
