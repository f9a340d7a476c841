/**
 * Every grading mode and every review-routing rule of issue 4, through the REAL worker: the API and
 * the arq worker run as separate processes against a private PostgreSQL database and a private
 * redis-server. Answers are crafted for the offline writing scorer (workers/grader-py/src/grader/scoring/
 * writing/scorer.py, rubric vstep-offline-2) so that each lands on exactly one rule (the figures in the
 * comments below are what it gives them on the remote-work prompt); tasks with the needed grading mode and minimum
 * words are inserted by SQL, as an admin would configure them.
 *
 * Two API + worker pairs share the database and Redis on different arq queues: the main worker runs
 * with GRADER_SPOT_CHECK_SHARE=0 (no random spot checks, so outcomes are deterministic), the second
 * with 1.0 (every auto-accepted result is spot-checked). Waiting is polling the database with a
 * deadline, never a fixed sleep.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RedisClient } from 'bun'
import { treaty } from '@elysiajs/eden'
import postgres from 'postgres'
import { GRADE_SUBMISSION_FUNCTION, GRADING_POLICY, REVIEW_REASON_PRIORITY, type GradingMode, type ReviewReason } from '@vstep/contracts'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import type { App } from '../../src/app'
import { enqueueJob, JOB_KEY_PREFIX, RESULT_KEY_PREFIX } from '../../src/queue/arq'
import { waitFor, type Service } from '../support/processes'
import { startTestRedis, type TestRedis } from '../support/redis-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../support/stack'

const MAIN_QUEUE = 'arq:queue'
const SPOT_QUEUE = 'arq:queue:spot-check'

let database: TestDatabase
let redis: TestRedis
let redisClient: RedisClient
let sql: postgres.Sql
let keyDir: string
const services: Service[] = []
let mainApi: ReturnType<typeof treaty<App>>
let spotApi: ReturnType<typeof treaty<App>>
let auth: { headers: { authorization: string } }
let userId: string

// Both APIs sign with the same dev key (keyDir), so one login works on both; no reconciler, so
// neither re-enqueues onto the other pair's queue.
const startApi = (name: string, queue: string, env: Record<string, string>) =>
  startApiProcess(services, { name, keyDir, env: { ...env, ARQ_QUEUE_NAME: queue, RECONCILE_INTERVAL_MS: '0' } })

const startWorker = (name: string, queue: string, share: string, env: Record<string, string>) =>
  startWorkerProcess(services, { name, env: { ...env, ARQ_QUEUE_NAME: queue, GRADER_SPOT_CHECK_SHARE: share } })

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false }) // the API migrates at start-up, as in production
  redis = await startTestRedis()
  redisClient = new RedisClient(redis.url)
  keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  const env = { DATABASE_URL: database.url, REDIS_URL: redis.url }
  const mainUrl = await startApi('api', MAIN_QUEUE, env)
  const spotUrl = await startApi('api-spot-check', SPOT_QUEUE, env)
  seedDatabase(env)
  startWorker('worker', MAIN_QUEUE, '0', env)
  startWorker('worker-spot-check', SPOT_QUEUE, '1', env)
  sql = postgres(database.url, { max: 4, onnotice: () => {} })

  mainApi = treaty<App>(mainUrl, { parseDate: false })
  spotApi = treaty<App>(spotUrl, { parseDate: false })
  const email = `routing-${crypto.randomUUID()}@example.test`
  const registered = await mainApi.v1.auth.register.post({ email, password: 'a long enough password', displayName: 'Routing' })
  expect(registered.status).toBe(201)
  const login = await mainApi.v1.auth.login.post({ email, password: 'a long enough password' })
  if (!login.data) throw new Error(`login failed: ${JSON.stringify(login.error)}`)
  auth = { headers: { authorization: `Bearer ${login.data.accessToken}` } }
  userId = login.data.user.id
}, 90_000)

afterAll(async () => {
  for (const service of services.reverse()) await service.stop()
  redisClient?.close()
  await sql?.end()
  await redis?.dispose()
  await database?.drop()
  if (keyDir) rmSync(keyDir, { recursive: true, force: true })
})

// ---------------------------------------------------------------------------------------------------
// Tasks and answers

/** A writing task 2 on the seeded remote-work prompt with the given grading mode and minimum words. */
async function createTask(mode: GradingMode, minWords: number): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into tasks (slug, skill, part, title, prompt, min_words, time_limit_minutes, grading_mode)
    select ${`routing-${crypto.randomUUID()}`}, 'writing', 'writing_task_2', 'Routing test', prompt, ${minWords}, 40,
           ${mode}::grading_mode
      from tasks where slug = 'w2-remote-work'
    returning id`
  if (!row) throw new Error('the seeded w2-remote-work task is missing')
  return row.id
}

const GOOD_ESSAY = `In recent years, a growing number of companies have allowed their employees to work from home for part of the week. While some people believe that this arrangement benefits both workers and employers, others argue that it damages teamwork and productivity. In my opinion, the advantages clearly outweigh the disadvantages, provided that the policy is managed carefully.

On the one hand, working from home offers significant benefits. Firstly, employees save the time and money they would otherwise spend commuting, which means they can start work feeling less stressed. For example, my cousin, who used to spend two hours a day on crowded buses, now uses that time to exercise and prepare healthy meals. Secondly, many workers find that they can concentrate better at home, because there are fewer interruptions than in a noisy open-plan office.

On the other hand, critics point out that remote work can weaken collaboration. When colleagues rarely meet in person, it becomes harder to share ideas informally, and new staff may struggle to learn from more experienced team members. Moreover, some employees feel isolated and find it difficult to separate their work from their private life.

However, I believe these challenges can be solved. Companies could ask teams to come to the office on the same days, so that meetings and training happen face to face. In addition, clear rules about working hours would help employees to protect their free time.

In conclusion, although working from home may harm teamwork if it is poorly organised, a balanced approach allows businesses and their staff to enjoy greater flexibility and productivity. Therefore, I strongly support giving employees this choice.`

const firstWords = (text: string, n: number) => text.split(' ').slice(0, n).join(' ')

// GOOD_ESSAY (272 words) against a 250-word minimum: confidence 0.72, mean of criteria 8.875 (clear of
// 8.5 ± 0.25); against 300: still 0.72, mean 8.0 (Task fulfilment capped under the minimum).
/** 81 words: the scorer flags it short for its own 150-word expectation, so its confidence is 0.23 (mean 2.5). */
const LOW_CONFIDENCE_ANSWER = firstWords(GOOD_ESSAY, 80)
/** The opening 148 words, stopped mid-argument: confident (0.74), mean of criteria 8.5, on the C1 cut-off. */
const NEAR_CUTOFF_ANSWER = firstWords(GOOD_ESSAY, 148)
/** 96 words with a dozen misspellings: confidence 0.59, mean 2.125. */
const MEDIUM_CONFIDENCE_ANSWER = firstWords(GOOD_ESSAY, 95)
  .replace('companies', 'compnies')
  .replace('allowed', 'alowed')
  .replace(/employees/g, 'emploees')
  .replace('believe', 'beleive')
  .replace(/benefits/g, 'benifits')
  .replace('arrangement', 'arangement')
  .replace('significant', 'signifcant')
  .replace('working', 'wroking')
  .replace('money', 'mony')
  .replace('otherwise', 'otherwize')
  .replace('commuting', 'comuting')
  .replace('stressed', 'stresed')
/** Plain, on-topic for a diary, not for the remote-work prompt: off topic, confidence 0.38, mean 2.75. */
const OFF_TOPIC_ANSWER = `My weekend is very nice. I go to the park with my dog. My dog is big and brown. We run in the park and we play with a ball. Then we go home and I eat lunch. I like rice and fish. After lunch I watch a film on TV. The film is funny. In the evening I call my mother. She lives in a small town. She has a cat and a garden. I like her garden very much. It has many flowers. On Sunday I clean my room and I read a book. The book is about a boy and his dog. I like the book. Then I go to bed early. My weekend is nice and quiet and I am happy.`

// ---------------------------------------------------------------------------------------------------
// Helpers

type SubmissionState = {
  status: string
  review_priority: string | null
  last_error_code: string | null
  late: boolean
  grading_mode: string
}

async function submit(taskId: string, answerText: string, api = mainApi): Promise<string> {
  const created = await api.v1.submissions.post({ taskId, answerText }, auth)
  if (!created.data) throw new Error(`submit failed: ${created.status} ${JSON.stringify(created.error)}`)
  expect(created.status).toBe(202)
  return created.data.id
}

async function stateOf(id: string): Promise<SubmissionState> {
  const [row] = await sql<SubmissionState[]>`
    select status::text, review_priority::text, last_error_code, late, grading_mode::text
      from submissions where id = ${id}`
  if (!row) throw new Error(`submission ${id} is gone`)
  return row
}

/** Polls until the submission leaves pending/processing (or `done` says so), with a deadline. */
async function settled(id: string, done: (s: SubmissionState) => boolean = (s) => s.status !== 'pending' && s.status !== 'processing') {
  return waitFor(
    `submission ${id} to settle`,
    async () => {
      const s = await stateOf(id)
      return done(s) ? s : undefined
    },
    30_000,
    services,
  )
}

async function reviewOf(id: string) {
  const rows = await sql<{ priority: string; reason: string; reviewer_id: string | null }[]>`
    select priority::text, reason, reviewer_id from reviews where submission_id = ${id}`
  return rows[0] ?? null
}

async function aiGrades(id: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from grades where submission_id = ${id} and source = 'ai'`
  return row!.n
}

async function transitions(id: string): Promise<string[]> {
  const rows = await sql<{ to_status: string }[]>`select to_status::text from submission_events where submission_id = ${id} order by id`
  return rows.map((r) => r.to_status)
}

const priorityOf = (reasons: ReviewReason[]) =>
  reasons
    .map((r) => REVIEW_REASON_PRIORITY[r])
    .reduce((a, b) => (['low', 'medium', 'high'].indexOf(a) >= ['low', 'medium', 'high'].indexOf(b) ? a : b))

/** Graded by the worker and sent to review with exactly these reasons (comma-joined) and their priority. */
async function expectReview(id: string, reasons: ReviewReason[]) {
  const s = await settled(id)
  const priority = priorityOf(reasons)
  expect({ status: s.status, priority: s.review_priority }).toEqual({ status: 'review_pending', priority })
  expect(await reviewOf(id)).toEqual({ priority, reason: reasons.join(','), reviewer_id: null })
  expect(await aiGrades(id)).toBe(1) // the AI draft is kept beside the coming human grade
  expect(await transitions(id)).toEqual(['pending', 'processing', 'review_pending'])
}

/**
 * A speaking answer whose recording is not in storage: the worker refuses it for good
 * (`audio_unreadable`, a permanent error: a missing object never appears by retrying). The row is
 * inserted as the API would store it and its job enqueued with the API's own arq producer.
 */
async function submitAudioOnly(mode: GradingMode): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into submissions (user_id, task_id, skill, grading_mode, audio_ref, deadline_at)
    select ${userId}, id, skill, ${mode}::grading_mode, 'audio/never-transcribed.webm', now() + interval '60 minutes'
      from tasks where slug = 's1-free-time-and-food'
    returning id`
  const id = row!.id
  expect(await enqueueJob(redisClient, GRADE_SUBMISSION_FUNCTION, [], { submission_id: id }, { jobId: id, queueName: MAIN_QUEUE })).toBe(id)
  return id
}

// ---------------------------------------------------------------------------------------------------
// Grading modes

describe('grading modes', () => {
  test('auto: the AI grade is final, the submission completes with no review', async () => {
    const id = await submit(await createTask('auto', 250), GOOD_ESSAY)
    const s = await settled(id)
    expect({ status: s.status, priority: s.review_priority }).toEqual({ status: 'completed', priority: null })
    expect(await reviewOf(id)).toBeNull()
    expect(await aiGrades(id)).toBe(1)
    expect(await transitions(id)).toEqual(['pending', 'processing', 'completed'])
  })

  test('human: straight to review_pending (medium, human_mode) and no arq job at all', async () => {
    const id = await submit(await createTask('human', 250), GOOD_ESSAY)
    const s = await stateOf(id) // final at once: the API decided, nothing is queued
    expect({ status: s.status, priority: s.review_priority }).toEqual({
      status: 'review_pending',
      priority: GRADING_POLICY.humanModePriority,
    })
    expect(await reviewOf(id)).toEqual({ priority: 'medium', reason: 'human_mode', reviewer_id: null })
    expect(await redisClient.exists(JOB_KEY_PREFIX + id)).toBe(false)
    expect(await redisClient.exists(RESULT_KEY_PREFIX + id)).toBe(false)
    expect(await redisClient.send('ZSCORE', [MAIN_QUEUE, id])).toBeNull()
    expect(await aiGrades(id)).toBe(0)
    expect(await transitions(id)).toEqual(['review_pending'])
  })

  test('hybrid: a confident, on-topic, long enough essay clear of every cut-off completes', async () => {
    const id = await submit(await createTask('hybrid', 250), GOOD_ESSAY)
    const s = await settled(id)
    expect({ status: s.status, priority: s.review_priority }).toEqual({ status: 'completed', priority: null })
    expect(await reviewOf(id)).toBeNull()
    expect(await aiGrades(id)).toBe(1)
  })
})

// ---------------------------------------------------------------------------------------------------
// Review routing (hybrid)

describe('hybrid review routing', () => {
  // min_words 0: the "too short" rule cannot fire, so each answer isolates its own rule.
  let openTask: string
  beforeAll(async () => {
    openTask = await createTask('hybrid', 0)
  })

  test('low confidence → review_pending, high', async () => {
    await expectReview(await submit(openTask, LOW_CONFIDENCE_ANSWER), ['low_confidence'])
  })

  test('medium confidence → review_pending, medium', async () => {
    await expectReview(await submit(openTask, MEDIUM_CONFIDENCE_ANSWER), ['medium_confidence'])
  })

  test('within ±0.25 of a CEFR cut-off → review_pending, high', async () => {
    await expectReview(await submit(openTask, NEAR_CUTOFF_ANSWER), ['near_cutoff'])
  })

  test('off topic → review_pending, high (an off-topic grade is never even half-confident)', async () => {
    await expectReview(await submit(openTask, OFF_TOPIC_ANSWER), ['low_confidence', 'off_topic'])
  })

  test('too short (fewer words than the task minimum) → review_pending, medium', async () => {
    await expectReview(await submit(await createTask('hybrid', 300), GOOD_ESSAY), ['too_short'])
  })
})

// ---------------------------------------------------------------------------------------------------
// AI failed for good, spot checks, late results

describe('AI failure, spot checks and late results', () => {
  test('AI failed for good in hybrid mode → review_pending, high, ai_failed', async () => {
    const id = await submitAudioOnly('hybrid')
    const s = await settled(id)
    expect(s).toMatchObject({ status: 'review_pending', review_priority: 'high', last_error_code: 'audio_unreadable' })
    expect(await reviewOf(id)).toEqual({ priority: 'high', reason: 'ai_failed', reviewer_id: null })
    expect(await aiGrades(id)).toBe(0)
    expect(await transitions(id)).toEqual(['pending', 'processing', 'review_pending'])
  })

  test('AI failed for good in auto mode → failed with the error code, no review', async () => {
    const id = await submitAudioOnly('auto')
    const s = await settled(id)
    expect(s).toMatchObject({ status: 'failed', review_priority: null, last_error_code: 'audio_unreadable' })
    expect(await reviewOf(id)).toBeNull()
    expect(await transitions(id)).toEqual(['pending', 'processing', 'failed'])
  })

  test('spot check: an auto-accepted result completes and also gets a low-priority review', async () => {
    for (const mode of ['auto', 'hybrid'] as const) {
      const id = await submit(await createTask(mode, 250), GOOD_ESSAY, spotApi) // the share-1.0 worker's queue
      const s = await settled(id)
      expect({ mode, status: s.status, priority: s.review_priority }).toEqual({ mode, status: 'completed', priority: 'low' })
      expect(await reviewOf(id)).toEqual({ priority: 'low', reason: 'spot_check', reviewer_id: null })
      expect(await transitions(id)).toEqual(['pending', 'processing', 'completed'])
    }
  })

  test('a reviewed hybrid result is not spot-checked on top (only auto-accepted ones are sampled)', async () => {
    const id = await submit(await createTask('hybrid', 0), NEAR_CUTOFF_ANSWER, spotApi)
    await settled(id)
    expect(await reviewOf(id)).toEqual({ priority: 'high', reason: 'near_cutoff', reviewer_id: null })
  })

  test('late result: the deadline failed the submission while it was graded → grade kept, late, still failed', async () => {
    const taskId = await createTask('hybrid', 250)
    // The API's sweeper, simulated at the exact moment that matters: as soon as the worker has moved a
    // submission of this task to processing, the deadline passes and it is failed with `timeout`.
    await sql.unsafe(`
      create function routing_test_sweep() returns trigger language plpgsql as $$
      begin
        perform set_config('vstep.actor', 'system', true), set_config('vstep.reason', 'timeout', true);
        update submissions set status = 'failed', last_error_code = 'timeout' where id = new.id;
        return null;
      end $$;
      create trigger zz_routing_test_sweep after update of status on submissions
        for each row when (new.status = 'processing' and new.task_id = '${taskId}')
        execute function routing_test_sweep();`)
    try {
      const id = await submit(taskId, GOOD_ESSAY)
      const s = await settled(id, (row) => row.late)
      expect(s).toMatchObject({ status: 'failed', last_error_code: 'timeout', late: true, review_priority: null })
      expect(await aiGrades(id)).toBe(1) // the grade is kept...
      expect(await reviewOf(id)).toBeNull() // ...but not routed
      expect(await transitions(id)).toEqual(['pending', 'processing', 'failed'])
    } finally {
      await sql.unsafe('drop trigger zz_routing_test_sweep on submissions; drop function routing_test_sweep()')
    }
  })
})
