import type { Problem, Progress, Submission, SubmissionEvent, Task, User } from '@vstep/contracts'
// Zod-free entry points of the contracts, so the page's bundle stays small.
import { CEFR_LABELS } from '@vstep/contracts/scoring'
import { isFinalStatus } from '@vstep/contracts/state-machine'
import { countWords } from '@vstep/contracts/words'
import { describeSeries, formatScore, layoutChart, MIN_ATTEMPTS } from './chart'
import { createClient, type Client } from './client'
import { asProblem } from './problem'

// ---------------------------------------------------------------------------------------------
// Small DOM helpers
// ---------------------------------------------------------------------------------------------

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (!el) throw new Error(`#${id} is missing from index.html`)
  return el as T
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) {
  const el = Object.assign(document.createElement(tag), props)
  el.append(...children)
  return el
}

const CRITERION_LABELS: Record<string, string> = {
  task_fulfilment: 'Task fulfilment',
  organisation: 'Organisation',
  vocabulary: 'Vocabulary',
  grammar: 'Grammar',
  pronunciation: 'Pronunciation',
  fluency: 'Fluency',
  discourse_management: 'Discourse management',
}

const STATUS_LABELS: Record<string, string> = {
  pending: 'Pending — queued for grading',
  processing: 'Processing — the grader is reading your answer',
  completed: 'Completed — your score is ready',
  review_pending: 'Waiting for a human reviewer',
  failed: 'Failed — grading could not finish',
}

const SKILL_LABELS: Record<string, string> = { writing: 'Writing', speaking: 'Speaking' }
const skillLabel = (skill: string) => SKILL_LABELS[skill] ?? skill

/** CEFR `none` (a band below 4.0) reads better as words: the contract's label ("below B1"). */
const cefrLabel = (cefr: keyof typeof CEFR_LABELS | null) => (cefr === null ? '—' : CEFR_LABELS[cefr])

const SVG_NS = 'http://www.w3.org/2000/svg'

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]) {
  const el = document.createElementNS(SVG_NS, tag)
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value))
  el.append(...children)
  return el
}

const partLabel = (part: string) => part.replace(/^writing_task_(\d)$/, 'Task $1').replaceAll('_', ' ')

const formatTime = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })

// ---------------------------------------------------------------------------------------------
// Session: the web flow of docs/auth.md. The access token lives in this variable only (no
// storage); the refresh token is the API's httpOnly `vstep_refresh` cookie, which scripts cannot
// read. A reload restores the session with `POST /v1/auth/refresh` (cookie, no body).
// ---------------------------------------------------------------------------------------------

type Session = { accessToken: string; user: User }

let session: Session | null = null

/** What every Eden call resolves to, as far as the 401 handling needs to know. */
type ApiResult = { error: { status: unknown } | null }

// ---------------------------------------------------------------------------------------------
// Problem+json rendering: `detail` in the box next to the form, per-field `errors` under the fields.
// ---------------------------------------------------------------------------------------------

function clearProblem(box: HTMLElement, form: HTMLFormElement) {
  box.hidden = true
  box.replaceChildren()
  for (const el of form.querySelectorAll<HTMLElement>('.field-error')) el.textContent = ''
  for (const el of form.querySelectorAll<HTMLElement>('[aria-invalid]')) el.removeAttribute('aria-invalid')
}

function showProblem(box: HTMLElement, form: HTMLFormElement, problem: Problem) {
  clearProblem(box, form)
  const unplaced: string[] = []
  for (const { field, message } of problem.errors ?? []) {
    const slot = form.querySelector<HTMLElement>(`#${CSS.escape(field)}-error`)
    const input = form.querySelector<HTMLElement>(`[name="${CSS.escape(field)}"]`)
    if (slot) slot.textContent = message
    else unplaced.push(`${field}: ${message}`)
    input?.setAttribute('aria-invalid', 'true')
  }
  box.append(h('strong', { textContent: problem.title }))
  if (problem.detail) box.append(h('span', { className: 'detail', textContent: problem.detail }))
  if (unplaced.length) box.append(h('ul', {}, ...unplaced.map((text) => h('li', { textContent: text }))))
  box.dataset.status = String(problem.status)
  box.hidden = false
}

// ---------------------------------------------------------------------------------------------
// App
// ---------------------------------------------------------------------------------------------

async function loadConfig(): Promise<{ apiUrl: string }> {
  // The demo server's own route (not an API route): where the API lives.
  const res = await fetch('/config.json')
  if (!res.ok) throw new Error(`config.json: ${res.status}`)
  return (await res.json()) as { apiUrl: string }
}

async function main() {
  const { apiUrl } = await loadConfig()
  const api = createClient(apiUrl, () => session?.accessToken ?? null)
  const ui = new DemoPage(api)
  await ui.start()
}

class DemoPage {
  private tasks: Task[] = []
  private mode: 'signup' | 'signin' = 'signup'
  /** Aborts the open SSE stream (leaving the page, signing out, starting over). */
  private stream: AbortController | null = null

  private readonly authForm = $<HTMLFormElement>('auth-form')
  private readonly authProblem = $('auth-problem')
  private readonly answerForm = $<HTMLFormElement>('answer-form')
  private readonly answerProblem = $('answer-problem')
  private readonly taskSelect = $<HTMLSelectElement>('task')
  private readonly answer = $<HTMLTextAreaElement>('answer')

  constructor(private readonly api: Client) {}

  async start() {
    $('tab-signup').addEventListener('click', () => this.setMode('signup'))
    $('tab-signin').addEventListener('click', () => this.setMode('signin'))
    this.authForm.addEventListener('submit', (e) => {
      e.preventDefault()
      void this.authenticate()
    })
    $('sign-out').addEventListener('click', () => void this.signOut())
    this.taskSelect.addEventListener('change', () => this.showTask())
    this.answer.addEventListener('input', () => this.updateWordCount())
    this.answerForm.addEventListener('submit', (e) => {
      e.preventDefault()
      void this.submit()
    })
    $('again').addEventListener('click', () => this.startOver())
    // Leaving the page closes the stream: Eden does not close it when the loop is left.
    window.addEventListener('pagehide', () => this.stopStream())

    this.setMode('signup')
    await this.restoreSession()
    await this.render()
  }

  // --- session -----------------------------------------------------------------------------------

  /**
   * On load: the refresh cookie (if the browser has one for the API) gets a new access token.
   * 401 (no cookie, or the session ended) leaves the sign-in form up.
   */
  private async restoreSession() {
    const refreshed = await this.refresh()
    if (refreshed !== true) {
      if (refreshed) showProblem(this.authProblem, this.authForm, refreshed)
      return
    }
    const me = await this.authed(() => this.api.v1.me.get())
    if (me?.data && session) session = { accessToken: session.accessToken, user: me.data }
  }

  /** The in-flight refresh: concurrent 401s share one, so the cookie is rotated once. */
  private refreshing: Promise<true | false | Problem> | null = null

  /**
   * `POST /v1/auth/refresh` with the cookie and no body. True when a new access token is in memory;
   * false on 401/403 (no session: sign in again); a problem for anything else (network, 429, 5xx).
   */
  private refresh(): Promise<true | false | Problem> {
    this.refreshing ??= (async () => {
      try {
        const res = await this.api.v1.auth.refresh.post()
        if (res.error) {
          session = null
          const status = Number(res.error.status)
          return status === 401 || status === 403 ? false : asProblem(res.error)
        }
        session = { accessToken: res.data.accessToken, user: res.data.user }
        return true
      } finally {
        this.refreshing = null
      }
    })()
    return this.refreshing
  }

  /**
   * Runs an authenticated call. A 401 (the access token expired or was refused) refreshes once and
   * retries; if that fails too, the session is over: the sign-in form shows and null comes back.
   */
  private async authed<R extends ApiResult>(call: () => Promise<R>): Promise<R | null> {
    const first = await call()
    if (!first.error || Number(first.error.status) !== 401) return first
    if ((await this.refresh()) !== true) {
      this.sessionExpired()
      return null
    }
    const second = await call()
    if (second.error && Number(second.error.status) === 401) {
      this.sessionExpired()
      return null
    }
    return second
  }

  private async render() {
    const signedIn = session !== null
    $('auth').hidden = signedIn
    $('account').hidden = !signedIn
    $('practice').hidden = !signedIn
    $('progress').hidden = !signedIn
    if (session) {
      $('account-name').textContent = session.user.displayName
      void this.loadProgress()
      if (this.tasks.length === 0) await this.loadTasks()
    } else {
      $('result').hidden = true
      $('progress-overall').replaceChildren()
      $('progress-skills').replaceChildren()
      $('progress-status').textContent = ''
    }
  }

  // --- account ---------------------------------------------------------------------------------

  private setMode(mode: 'signup' | 'signin') {
    this.mode = mode
    $('tab-signup').setAttribute('aria-selected', String(mode === 'signup'))
    $('tab-signin').setAttribute('aria-selected', String(mode === 'signin'))
    $('field-displayName').hidden = mode === 'signin'
    $('password-hint').hidden = mode === 'signin'
    $<HTMLInputElement>('password').autocomplete = mode === 'signup' ? 'new-password' : 'current-password'
    $('auth-submit').textContent = mode === 'signup' ? 'Create account' : 'Sign in'
    $('auth-title').textContent = mode === 'signup' ? 'Create an account to practise' : 'Sign in to practise'
    clearProblem(this.authProblem, this.authForm)
  }

  private async authenticate() {
    const data = new FormData(this.authForm)
    const email = String(data.get('email') ?? '').trim()
    const password = String(data.get('password') ?? '')
    const button = $<HTMLButtonElement>('auth-submit')
    button.disabled = true
    clearProblem(this.authProblem, this.authForm)
    try {
      if (this.mode === 'signup') {
        const displayName = String(data.get('displayName') ?? '').trim() || email.split('@')[0] || 'Learner'
        const reg = await this.api.v1.auth.register.post({ email, password, displayName })
        if (reg.error) return showProblem(this.authProblem, this.authForm, asProblem(reg.error))
      }
      // `client: 'web'`: the refresh token comes back as the httpOnly cookie, not in the JSON.
      const login = await this.api.v1.auth.login.post({ email, password, client: 'web' })
      if (login.error) return showProblem(this.authProblem, this.authForm, asProblem(login.error))
      session = { accessToken: login.data.accessToken, user: login.data.user }
      this.authForm.reset()
      await this.render()
      this.taskSelect.focus()
    } finally {
      button.disabled = false
    }
  }

  /** Ends the session on the server (the cookie identifies it; the API clears the cookie). */
  private async signOut() {
    this.stopStream()
    const button = $<HTMLButtonElement>('sign-out')
    button.disabled = true
    try {
      const res = await this.api.v1.auth.logout.post()
      if (res.error) console.warn('sign-out failed', asProblem(res.error))
    } finally {
      button.disabled = false
    }
    this.endSession()
  }

  /** Forgets the session in this page (the access token is only in memory). */
  private endSession() {
    this.stopStream()
    session = null
    this.tasks = []
    void this.render()
  }

  // --- task catalogue ----------------------------------------------------------------------------

  private async loadTasks() {
    const res = await this.authed(() => this.api.v1.tasks.get())
    if (!res) return
    if (res.error) {
      const p = asProblem(res.error)
      const banner = $('boot-error')
      banner.textContent = `Could not load the task catalogue: ${p.detail ?? p.title}`
      banner.hidden = false
      return
    }
    this.tasks = res.data.items.filter((t) => t.skill === 'writing')
    this.taskSelect.replaceChildren(
      ...this.tasks.map((t) => h('option', { value: t.id, textContent: `${partLabel(t.part)} · ${t.title}` })),
    )
    this.showTask()
  }

  private get task(): Task | undefined {
    return this.tasks.find((t) => t.id === this.taskSelect.value)
  }

  private showTask() {
    const task = this.task
    $('task-meta').textContent = task
      ? `${task.level} · at least ${task.minWords} words · ${task.timeLimitMinutes} minutes`
      : 'No Writing tasks in the catalogue.'
    $('task-prompt').textContent = task?.prompt ?? ''
    this.updateWordCount()
  }

  private updateWordCount() {
    const words = countWords(this.answer.value)
    const min = this.task?.minWords ?? 0
    const el = $('word-count')
    el.textContent = min > 0 ? `${words} ${words === 1 ? 'word' : 'words'} · minimum ${min}` : `${words} words`
    el.classList.toggle('short', min > 0 && words < min)
    el.classList.toggle('enough', min > 0 && words >= min)
  }

  // --- submission and live status -----------------------------------------------------------------

  private async submit() {
    const task = this.task
    if (!task) return
    const button = $<HTMLButtonElement>('answer-submit')
    button.disabled = true
    clearProblem(this.answerProblem, this.answerForm)
    try {
      const answerText = this.answer.value
      const res = await this.authed(() => this.api.v1.submissions.post({ taskId: task.id, answerText }))
      if (!res) return
      if (res.error) {
        return showProblem(this.answerProblem, this.answerForm, asProblem(res.error))
      }
      this.showSubmission(res.data)
    } finally {
      button.disabled = false
    }
  }

  private sessionExpired() {
    this.endSession()
    showProblem(this.authProblem, this.authForm, {
      type: 'about:blank',
      title: 'Session expired',
      status: 401,
      detail: 'Please sign in again.',
    })
    this.setMode('signin')
  }

  private showSubmission(submission: Submission) {
    $('practice').hidden = true
    $('result').hidden = false
    $('score').hidden = true
    $('again').hidden = true
    $('timeline').replaceChildren()
    $('result-title').textContent = `Your submission · ${this.task?.title ?? 'Writing'} · ${submission.wordCount} words`
    $('result').scrollIntoView({ block: 'start' })
    void this.follow(submission.id)
  }

  private addStatus(event: SubmissionEvent) {
    const list = $('timeline')
    if (list.querySelector(`[data-event-id="${event.id}"]`)) return
    const li = h(
      'li',
      {},
      h('span', { className: 'status', textContent: STATUS_LABELS[event.to] ?? event.to }),
      h('span', { className: 'meta', textContent: `${formatTime(event.at)} · by ${this.actorLabel(event.actor)}${event.reason ? ` · ${event.reason}` : ''}` }),
    )
    li.dataset.status = event.to
    li.dataset.eventId = String(event.id)
    list.append(li)
  }

  private actorLabel(actor: string) {
    return session && actor === `user:${session.user.id}` ? 'you' : actor
  }

  private stopStream() {
    this.stream?.abort()
    this.stream = null
  }

  /**
   * Reads the submission's SSE stream through Eden (`data` is an async generator of parsed events).
   * Eden neither reconnects nor closes the connection when the loop is left, so the loop is driven
   * by an AbortController, and a dropped stream is reopened with `?since=` the last event id.
   */
  private async follow(submissionId: string) {
    this.stopStream()
    const controller = new AbortController()
    this.stream = controller
    const connection = $('connection')
    let lastId = 0
    let final: SubmissionEvent['to'] | null = null
    let failures = 0
    let refreshed = false // one refresh per connection attempt; a second 401 ends the session

    while (!controller.signal.aborted && final === null) {
      connection.textContent = failures ? 'Reconnecting to live updates…' : 'Connecting to live updates…'
      const res = await this.api.v1
        .submissions({ id: submissionId })
        .events.get({ query: lastId ? { since: lastId } : {}, fetch: { signal: controller.signal } })
      if (res.error) {
        if (controller.signal.aborted) return
        // The events route declares only 422; the auth guard's 401 and the 404 arrive at runtime too.
        const status: number = Number(res.error.status)
        if (status === 401) {
          if (refreshed || (await this.refresh()) !== true) return this.sessionExpired()
          refreshed = true
          continue
        }
        if (status === 404) {
          connection.textContent = 'This submission no longer exists.'
          return
        }
        const p = asProblem(res.error)
        connection.textContent = `Live updates unavailable: ${p.detail ?? p.title}`
        if (++failures > 5) return
        await new Promise((r) => setTimeout(r, 1000 * failures))
        continue
      }
      try {
        for await (const message of res.data) {
          if (message.event === 'ready') {
            connection.textContent = 'Live: updates appear as the grader works.'
            failures = 0
            refreshed = false
          } else if (message.event === 'status') {
            lastId = message.data.id
            this.addStatus(message.data)
            // Final (completed, failed): grading is over, stop following. review_pending is not:
            // the stream goes on and the reviewer's `completed` arrives on it.
            if (isFinalStatus(message.data.to)) {
              final = message.data.to
              break
            }
            if (message.data.to === 'review_pending') {
              connection.textContent = 'A human reviewer will grade this answer; the score appears here when they finish.'
            }
          }
          // `ping` heartbeats keep the connection alive; nothing to show.
        }
      } catch (error) {
        if (controller.signal.aborted) return
        console.warn('event stream dropped', error)
      }
      if (final === null && !controller.signal.aborted) {
        if (++failures > 5) {
          connection.textContent = 'Live updates stopped. Reload the page to check the result.'
          return
        }
        await new Promise((r) => setTimeout(r, 500 * failures))
      }
    }
    // The stream is done with (or we left): close the connection rather than leave it to the server.
    controller.abort()
    if (this.stream === controller) this.stream = null
    if (final === 'completed') {
      connection.textContent = 'Graded.'
      await this.showGrade(submissionId)
      await this.loadProgress()
    } else if (final === 'failed') {
      connection.textContent = 'Grading failed. Please try again later.'
    }
    $('again').hidden = false
  }

  private async showGrade(submissionId: string) {
    const res = await this.authed(() => this.api.v1.submissions({ id: submissionId }).get())
    if (!res) return
    if (res.error) {
      const p = asProblem(res.error)
      $('connection').textContent = `Could not load the grade: ${p.detail ?? p.title}`
      return
    }
    // A human grade, when present, outranks the AI draft.
    const grade = res.data.grades.find((g) => g.source === 'human') ?? res.data.grades[0]
    if (!grade) {
      $('connection').textContent = 'Completed, but no grade was recorded.'
      return
    }
    $('overall').textContent = grade.overall.toFixed(1)
    $('cefr').textContent = cefrLabel(grade.cefr)
    $('overall-feedback').textContent = grade.feedback
    $('criteria').replaceChildren(
      ...grade.criteria.map((c) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row', textContent: CRITERION_LABELS[c.criterion] ?? c.criterion }),
          h('td', { textContent: c.score.toFixed(1) }),
          h('td', { textContent: c.feedback }),
        ),
      ),
    )
    $('score').hidden = false
  }

  // --- progress --------------------------------------------------------------------------------

  /** Fetches `GET /v1/progress` and redraws the panel. Called on sign-in and after each completed grade. */
  private async loadProgress() {
    const status = $('progress-status')
    const panel = $('progress')
    panel.setAttribute('aria-busy', 'true')
    try {
      const res = await this.authed(() => this.api.v1.progress.get())
      if (!res || !session) return // session over, or signed out while the request was in flight
      if (res.error) {
        const p = asProblem(res.error)
        status.textContent = `Could not load your progress: ${p.detail ?? p.title}`
        return
      }
      status.textContent = ''
      this.renderProgress(res.data)
    } finally {
      panel.removeAttribute('aria-busy')
    }
  }

  private renderProgress(progress: Progress) {
    const overall = progress.overall
    $('progress-overall').replaceChildren(
      overall.status === 'estimated' && overall.band !== null
        ? h(
            'p',
            { className: 'estimate' },
            h('span', { className: 'estimate-label', textContent: 'Overall estimate' }),
            h('span', { className: 'band', textContent: formatScore(overall.band) }),
            h('span', { className: 'level', textContent: cefrLabel(overall.cefr) }),
          )
        : h(
            'p',
            { className: 'estimate insufficient' },
            h('span', { className: 'estimate-label', textContent: 'Overall estimate' }),
            `Insufficient data: it needs an estimated band for every skill (${progress.skills.map((s) => skillLabel(s.skill)).join(' and ')}).`,
          ),
    )
    $('progress-overall').dataset.status = overall.status
    $('progress-skills').replaceChildren(...progress.skills.map((skill) => this.skillCard(skill)))
    $('progress').dataset.loaded = String(Date.now())
  }

  private skillCard(skill: Progress['skills'][number]) {
    const name = skillLabel(skill.skill)
    const titleId = `progress-${skill.skill}-title`
    const estimate =
      skill.status === 'estimated' && skill.band !== null
        ? h(
            'p',
            { className: 'estimate' },
            h('span', { className: 'band', textContent: formatScore(skill.band) }),
            h('span', { className: 'level', textContent: cefrLabel(skill.cefr) }),
            h('span', { className: 'estimate-note', textContent: `estimated band · last ${skill.attemptsInWindow} graded ${skill.attemptsInWindow === 1 ? 'attempt' : 'attempts'}` }),
          )
        : h('p', { className: 'estimate insufficient', textContent: `Insufficient data (${skill.attemptsInWindow} of ${MIN_ATTEMPTS} graded attempts)` })
    estimate.dataset.status = skill.status
    const card = h('article', { className: 'skill-progress' }, h('h3', { id: titleId, textContent: name }), estimate)
    card.dataset.skill = skill.skill
    card.setAttribute('aria-labelledby', titleId)
    if (skill.history.length > 0) card.append(this.chart(name, skill.history), this.historyTable(name, skill.history))
    else card.append(h('p', { className: 'hint', textContent: 'No graded attempts yet.' }))
    return card
  }

  /** The line chart: geometry from `layoutChart`, drawn as plain SVG. Screen readers get the aria-label and the table. */
  private chart(name: string, history: Progress['skills'][number]['history']) {
    const scores = history.map((p) => p.overall)
    const c = layoutChart(scores)
    return svg(
      'svg',
      { class: 'chart', viewBox: `0 0 ${c.width} ${c.height}`, role: 'img', 'aria-label': describeSeries(name, scores) },
      svg('line', { class: 'axis', x1: c.plot.left, y1: c.plot.bottom, x2: c.plot.right, y2: c.plot.bottom }),
      ...c.ticks.map((t) => svg('text', { class: 'tick', x: c.plot.left - 5, y: t.y, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, t.label)),
      ...c.guides.flatMap((g) => [
        svg('line', { class: 'guide', x1: c.plot.left, y1: g.y, x2: c.plot.right, y2: g.y, 'stroke-dasharray': '4 3' }),
        svg('text', { class: 'guide-label', x: c.plot.right + 4, y: g.y, 'dominant-baseline': 'middle' }, g.label),
      ]),
      ...(c.points.length > 1 ? [svg('path', { class: 'line', d: c.path })] : []),
      ...c.points.flatMap((p) => [
        svg('circle', { class: 'point', cx: p.x, cy: p.y, r: 3.5, 'data-score': p.label }),
        svg('text', { class: 'point-label', x: p.x, y: p.y - 7, 'text-anchor': 'middle' }, p.label),
      ]),
    )
  }

  private historyTable(name: string, history: Progress['skills'][number]['history']) {
    return h(
      'table',
      { className: 'visually-hidden history' },
      h('caption', { textContent: `${name}: graded attempts, oldest first` }),
      h(
        'thead',
        {},
        h('tr', {}, ...['Attempt', 'Graded', 'Task', 'Score', 'CEFR'].map((text) => h('th', { scope: 'col', textContent: text }))),
      ),
      h(
        'tbody',
        {},
        ...history.map((p, i) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row', textContent: String(i + 1) }),
            h('td', { textContent: new Date(p.gradedAt).toLocaleString() }),
            h('td', { textContent: partLabel(p.part) }),
            h('td', { textContent: formatScore(p.overall) }),
            h('td', { textContent: cefrLabel(p.cefr) }),
          ),
        ),
      ),
    )
  }

  private startOver() {
    this.stopStream()
    $('result').hidden = true
    $('practice').hidden = false
    this.answer.value = ''
    this.updateWordCount()
    this.answer.focus()
  }
}

main().catch((error: unknown) => {
  const banner = document.getElementById('boot-error')
  if (banner) {
    banner.textContent = `The demo could not start: ${error instanceof Error ? error.message : String(error)}`
    banner.hidden = false
  }
})
