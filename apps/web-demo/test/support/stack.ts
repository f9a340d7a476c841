/**
 * The real stack for the browser tests: a private PostgreSQL database and redis-server, the API and
 * the grading worker as their own processes (apps/api/test/support/stack.ts, as the API's e2e tests
 * run them), the web app's server in-process, and Debian's chromium driven by playwright-core.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import type { Service } from '../../../api/test/support/processes'
import { freePort, startTestRedis, type TestRedis } from '../../../api/test/support/redis-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../../../api/test/support/stack'
import { startDemoServer } from '../../src/server'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export type Stack = {
  apiUrl: string
  webUrl: string
  sql: postgres.Sql
  browser: Browser
  worker: Service
  /** Pauses (SIGSTOP) or resumes (SIGCONT) the worker and its child processes: the job stays queued meanwhile. */
  pauseWorker: (paused: boolean) => void
  stop: () => Promise<void>
}

/** The pids under `pid` (uv runs python as a child), from /proc. */
function descendants(pid: number): number[] {
  const out: number[] = []
  let tasks: string[] = []
  try {
    tasks = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out // the process is gone
  }
  for (const task of tasks) {
    let children = ''
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
    } catch {
      continue // a thread that ended meanwhile
    }
    for (const child of children ? children.split(/\s+/).map(Number) : []) out.push(child, ...descendants(child))
  }
  return out
}

export async function startStack(): Promise<Stack> {
  const services: Service[] = []
  let database: TestDatabase | undefined
  let redis: TestRedis | undefined
  const keyDir = mkdtempSync(join(tmpdir(), 'vstep-web-keys-'))
  const audioDir = mkdtempSync(join(tmpdir(), 'vstep-web-audio-'))
  try {
    database = await createTestDatabase({ migrate: false }) // the API migrates at start-up
    redis = await startTestRedis()
    const webPort = freePort()
    const webUrl = `http://127.0.0.1:${webPort}`
    const env = { DATABASE_URL: database.url, REDIS_URL: redis.url, AUDIO_DIR: audioDir }
    const apiUrl = await startApiProcess(services, {
      keyDir,
      env: {
        ...env,
        CORS_ORIGINS: webUrl,
        // Every page load refreshes from 127.0.0.1 and the tests sign in many times: the per-IP quotas
        // have tests of their own.
        RATE_LIMIT_LOGIN: '1000',
        RATE_LIMIT_REGISTER: '1000',
        RATE_LIMIT_REFRESH: '1000',
        // The deadline sweeper runs often, so the "failed" test does not wait 30 s for it.
        SWEEP_INTERVAL_MS: '250',
      },
    })
    seedDatabase(env)
    // No random spot checks: a completed submission stays completed.
    const worker = startWorkerProcess(services, { env: { ...env, GRADER_SPOT_CHECK_SHARE: '0' } })
    const web = startDemoServer({ port: webPort, hostname: '127.0.0.1', apiUrl, development: false })
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
    const sql = postgres(database.url, { max: 2, onnotice: () => {} })
    const db = database
    const rd = redis
    return {
      apiUrl,
      webUrl,
      sql,
      browser,
      worker,
      pauseWorker: (paused) => {
        const pids = [worker.proc.pid, ...descendants(worker.proc.pid)]
        for (const pid of paused ? pids : pids.reverse()) process.kill(pid, paused ? 'SIGSTOP' : 'SIGCONT')
      },
      stop: async () => {
        await browser.close()
        await web.stop(true)
        await sql.end()
        for (const s of services) await s.stop()
        await rd.dispose()
        await db.drop()
        rmSync(keyDir, { recursive: true, force: true })
        rmSync(audioDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    for (const s of services) await s.stop()
    await redis?.dispose()
    await database?.drop()
    rmSync(keyDir, { recursive: true, force: true })
    rmSync(audioDir, { recursive: true, force: true })
    throw error
  }
}

/** Where the test run writes its screenshots (git-ignored). */
export const SHOTS = join(import.meta.dir, '../../screenshots')
mkdirSync(SHOTS, { recursive: true })

/** A fresh browser context and page with console errors collected, so a broken bundle fails loudly. */
export async function openApp(
  stack: Stack,
  path = '/',
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await stack.browser.newContext({ viewport })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    // Chromium logs every non-2xx response; the expected ones (401 on load, 422) are asserted on the page.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`)
  })
  await page.goto(stack.webUrl + path)
  return { context, page, errors }
}

/**
 * Screenshots of the page at 1280 px and at 390 px, and the check that at 390 px nothing is wider
 * than the viewport: the document does not scroll sideways and no visible element's box ends past
 * the right edge (elements inside a horizontal scroller are the scroller's business).
 */
export async function shootAndCheckWidth(page: Page, name: string): Promise<string[]> {
  const original = page.viewportSize() ?? { width: 1280, height: 900 }
  await page.setViewportSize({ width: 1280, height: 900 })
  await page.screenshot({ path: join(SHOTS, `${name}-1280.png`), fullPage: true })
  await page.setViewportSize({ width: 390, height: 844 })
  const overflowing = await page.evaluate(() => {
    const width = document.documentElement.clientWidth
    const out: string[] = []
    if (document.documentElement.scrollWidth > width) out.push(`document scrollWidth ${document.documentElement.scrollWidth} > ${width}`)
    for (const el of document.body.querySelectorAll<HTMLElement>('*')) {
      if (el.closest('.visually-hidden, .table-scroll')) continue
      const r = el.getBoundingClientRect()
      if (r.width === 0 || r.height === 0) continue
      if (r.right > width + 0.5 || r.left < -0.5) {
        const skip = el.className === 'skip'
        if (!skip)
          out.push(
            `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${String(el.className).replaceAll(' ', '.')} [${Math.round(r.left)}, ${Math.round(r.right)}]`,
          )
      }
    }
    return out
  })
  await page.screenshot({ path: join(SHOTS, `${name}-390.png`), fullPage: true })
  await page.setViewportSize(original)
  return overflowing
}
