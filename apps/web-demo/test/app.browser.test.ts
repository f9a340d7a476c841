/**
 * The web app in a real browser against the real stack: the API and the grading worker as their own
 * processes on a private PostgreSQL database and redis-server, the app's server in-process, Debian's
 * chromium driven by playwright-core (test/support/stack.ts). Waiting is Playwright's auto-waiting
 * on what the page shows (or polling with a deadline): no fixed sleeps. Every main page is
 * screenshotted at 1280 px and 390 px into apps/web-demo/screenshots/ (git-ignored), and at 390 px
 * no element may overflow the viewport.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { CHROMIUM, openApp, shootAndCheckWidth, startStack, type Stack } from './support/stack'

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
    await page.getByRole('link', { name: new RegExp(task.title) }).first().click()
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
    const markTexts = (await marks.evaluateAll((els) => els.map((e) => e.firstChild?.textContent ?? ''))) as string[]
    expect(markTexts).toEqual(expect.arrayContaining(['have', 'can to', 'went']))
    const spans = new Set(annotations.map((a) => ESSAY.slice(a.start, a.end)))
    for (const text of markTexts) expect(spans.has(text)).toBe(true)
    // Each mark is focusable and described by its note.
    const first = marks.first()
    expect(await first.getAttribute('tabindex')).toBe('0')
    const noteId = (await first.getAttribute('aria-describedby'))!
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
})
