/**
 * Spoken answers end to end, every part real: the API and the worker run as processes against a
 * private PostgreSQL database and Redis; the recordings are synthesised here with espeak-ng (and
 * converted by ffmpeg), uploaded as multipart, stored in a private audio directory, transcribed
 * offline by PocketSphinx, scored and announced over SSE.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import type { Service } from '../support/processes'
import { startTestRedis, type TestRedis } from '../support/redis-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../support/stack'
import { SPOKEN, ffmpeg, filesUnder, learner, sha256, spokenWordsHeard, synthesise, upload, waitForFinal } from './speaking-support'

let database: TestDatabase
let redis: TestRedis
let keyDir: string
let audioDir: string
let workDir: string
let apiUrl: string
let sql: ReturnType<typeof postgres>
const services: Service[] = []
let taskId: string
let writingTaskId: string
let wav: string

const MAX_BYTES = 2 * 1024 * 1024

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false })
  redis = await startTestRedis()
  keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  audioDir = mkdtempSync(join(tmpdir(), 'vstep-audio-'))
  workDir = mkdtempSync(join(tmpdir(), 'vstep-speech-'))
  const env = { DATABASE_URL: database.url, REDIS_URL: redis.url, AUDIO_DIR: audioDir }
  apiUrl = await startApiProcess(services, {
    // Many accounts and uploads from one address: the rate limits are not under test here.
    env: {
      ...env,
      RATE_LIMIT_REGISTER: '1000',
      RATE_LIMIT_LOGIN: '1000',
      RATE_LIMIT_SUBMISSIONS: '1000',
      AUDIO_MAX_BYTES: String(MAX_BYTES),
      MAX_REQUEST_BODY_BYTES: String(MAX_BYTES + 1024 * 1024),
      AUDIO_MAX_SECONDS: '60',
      AUDIO_TMP_DIR: workDir,
    },
    keyDir,
  })
  seedDatabase(env)
  startWorkerProcess(services, { env })
  sql = postgres(database.url, { max: 2, onnotice: () => {} })
  taskId = (await sql<{ id: string }[]>`select id from tasks where slug = 's2-birthday-gift'`)[0]!.id
  writingTaskId = (await sql<{ id: string }[]>`select id from tasks where part = 'writing_task_1' limit 1`)[0]!.id
  wav = synthesise(workDir, 'answer', SPOKEN)
}, 90_000)

afterAll(async () => {
  for (const service of services) await service.stop()
  await sql?.end()
  await redis?.dispose()
  await database?.drop()
  for (const dir of [keyDir, audioDir, workDir]) if (dir) rmSync(dir, { recursive: true, force: true })
})

const storedObjects = () => filesUnder(audioDir)
/** What the upload left in the temp dir besides the test's own files: nothing, ever. */
const leftoverUploads = () => readdirSync(workDir).filter((f) => f.startsWith('vstep-upload-'))

describe('a spoken answer', () => {
  for (const format of ['wav', 'webm', 'mp3'] as const) {
    test(`${format}: uploaded, stored, transcribed, scored, and announced over SSE`, async () => {
      const me = await learner(apiUrl)
      const file =
        format === 'wav'
          ? wav
          : ffmpeg(
              wav,
              join(workDir, `answer.${format}`),
              format === 'webm' ? ['-c:a', 'libopus', '-b:a', '32k'] : ['-c:a', 'libmp3lame', '-q:a', '4'],
            )
      const res = await upload(apiUrl, me, { taskId, file, filename: `answer.${format}` })
      expect(res.status).toBe(202)
      const created = (await res.json()) as {
        id: string
        status: string
        audio: { mediaType: string; bytes: number; durationSeconds: number }
      }
      expect(created.audio).toMatchObject({
        mediaType: { wav: 'audio/wav', webm: 'audio/webm', mp3: 'audio/mpeg' }[format],
        bytes: statSync(file).size,
      })
      expect(created.audio.durationSeconds).toBeGreaterThan(5)

      const final = await waitForFinal(apiUrl, me, created.id)
      expect(['completed', 'review_pending']).toContain(final)
      const got = (await (await fetch(`${apiUrl}/v1/submissions/${created.id}`, { headers: me.headers })).json()) as {
        transcript: string
        grades: {
          criteria: { criterion: string; score: number; annotations: { start: number; end: number; message: string }[] }[]
          confidence: number
          provider: string
        }[]
      }
      // Most of what was said is in the transcript.
      expect(spokenWordsHeard(SPOKEN, got.transcript)).toBeGreaterThan(0.6)
      const grade = got.grades[0]!
      expect(grade.criteria.map((c) => c.criterion).sort()).toEqual([
        'discourse_management',
        'fluency',
        'grammar',
        'pronunciation',
        'vocabulary',
      ])
      // Feedback quotes the transcript: every annotation is a span of it, and its message quotes it.
      const annotations = grade.criteria.flatMap((c) => c.annotations)
      expect(annotations.length).toBeGreaterThan(0)
      for (const a of annotations) {
        expect(a.end).toBeLessThanOrEqual(got.transcript.length)
        expect(a.start).toBeLessThan(a.end)
      }
      expect(annotations.some((a) => a.message.includes(got.transcript.slice(a.start, a.end)))).toBe(true)
    }, 90_000)
  }
})

describe('private audio', () => {
  test('the owner and an instructor get the same bytes and working ranges; another learner gets 404', async () => {
    const owner = await learner(apiUrl)
    const res = await upload(apiUrl, owner, { taskId, file: wav, filename: 'mine.wav' })
    expect(res.status).toBe(202)
    const { id } = (await res.json()) as { id: string }
    const original = readFileSync(wav)

    const stranger = await learner(apiUrl)
    expect((await fetch(`${apiUrl}/v1/submissions/${id}/audio`, { headers: stranger.headers })).status).toBe(404)
    expect((await fetch(`${apiUrl}/v1/submissions/${id}`, { headers: stranger.headers })).status).toBe(404)
    expect((await fetch(`${apiUrl}/v1/submissions/${id}/audio`)).status).toBe(401)

    const instructor = await learner(apiUrl, async (email) => {
      await sql`update users set role = 'instructor' where lower(email) = lower(${email})`
    })
    for (const who of [owner, instructor]) {
      const whole = await fetch(`${apiUrl}/v1/submissions/${id}/audio`, { headers: who.headers })
      expect(whole.status).toBe(200)
      expect(whole.headers.get('content-type')).toBe('audio/wav')
      expect(whole.headers.get('accept-ranges')).toBe('bytes')
      expect(whole.headers.get('cache-control')).toContain('no-store')
      expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256(original))

      const part = await fetch(`${apiUrl}/v1/submissions/${id}/audio`, { headers: { ...who.headers, range: 'bytes=100-1099' } })
      expect(part.status).toBe(206)
      expect(part.headers.get('content-range')).toBe(`bytes 100-1099/${original.length}`)
      expect(Buffer.from(await part.arrayBuffer()).equals(original.subarray(100, 1100))).toBe(true)

      const tail = await fetch(`${apiUrl}/v1/submissions/${id}/audio`, { headers: { ...who.headers, range: 'bytes=-10' } })
      expect(tail.status).toBe(206)
      expect(Buffer.from(await tail.arrayBuffer()).equals(original.subarray(original.length - 10))).toBe(true)
      const past = await fetch(`${apiUrl}/v1/submissions/${id}/audio`, { headers: { ...who.headers, range: `bytes=${original.length}-` } })
      expect(past.status).toBe(416)
      expect(past.headers.get('content-range')).toBe(`bytes */${original.length}`)
    }
    await waitForFinal(apiUrl, owner, id)
  }, 90_000)
})

describe('refused recordings leave nothing behind', () => {
  test('wrong type, renamed text, truncated, silent, too long, oversized, and a writing task: clear 4xx, no row, no object', async () => {
    const me = await learner(apiUrl)
    const before = storedObjects().length
    const count = async () => Number((await sql<{ n: string }[]>`select count(*) as n from submissions`)[0]!.n)
    const rows = await count()

    const text = join(workDir, 'essay.wav')
    writeFileSync(text, 'This is an essay typed into a text file and renamed to .wav.\n'.repeat(50))
    const png = join(workDir, 'picture.png')
    writeFileSync(png, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(2000, 7)]))
    const truncated = join(workDir, 'cut.wav')
    writeFileSync(truncated, readFileSync(wav).subarray(0, 30_000))
    const cutWebm = join(workDir, 'cut.webm')
    writeFileSync(cutWebm, readFileSync(ffmpeg(wav, join(workDir, 'whole.webm'), ['-c:a', 'libopus'])).subarray(0, 3_000))
    const silence = ffmpeg(null, join(workDir, 'silence.wav'), ['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-t', '10'])
    const long = ffmpeg(null, join(workDir, 'long.mp3'), [
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=8000',
      '-t',
      '90',
      '-c:a',
      'libmp3lame',
      '-b:a',
      '8k',
    ])
    const big = ffmpeg(null, join(workDir, 'big.wav'), [
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000',
      '-ac',
      '2',
      '-t',
      '12',
    ])
    expect(statSync(big).size).toBeGreaterThan(MAX_BYTES)

    const cases: [string, Promise<Response>, number, RegExp][] = [
      ['wrong type', upload(apiUrl, me, { taskId, file: png, filename: 'picture.png', type: 'image/png' }), 415, /not a recording/],
      ['renamed text file', upload(apiUrl, me, { taskId, file: text, filename: 'essay.wav', type: 'audio/wav' }), 415, /not a recording/],
      ['truncated wav', upload(apiUrl, me, { taskId, file: truncated, filename: 'cut.wav' }), 422, /incomplete/],
      ['truncated webm', upload(apiUrl, me, { taskId, file: cutWebm, filename: 'cut.webm' }), 422, /damaged or incomplete/],
      ['10 s of silence', upload(apiUrl, me, { taskId, file: silence, filename: 'silence.wav' }), 422, /silent/],
      ['too long', upload(apiUrl, me, { taskId, file: long, filename: 'long.mp3' }), 422, /at most 60 s/],
      ['oversized', upload(apiUrl, me, { taskId, file: big, filename: 'big.wav' }), 413, /larger than/],
      ['oversized, chunked', upload(apiUrl, me, { taskId, file: big, filename: 'big.wav', chunked: true }), 413, /larger than/],
      ['a writing task', upload(apiUrl, me, { taskId: writingTaskId, file: wav, filename: 'a.wav' }), 422, /typed answer/],
      ['no file', upload(apiUrl, me, { taskId, file: null, filename: '' }), 422, /recording file is required/],
    ]
    for (const [what, pending, status, detail] of cases) {
      const res = await pending
      const body = (await res.json()) as { status: number; detail: string; errors?: { field: string; message: string }[] }
      expect({ what, status: res.status, type: res.headers.get('content-type') }).toEqual({
        what,
        status,
        type: 'application/problem+json',
      })
      expect(`${body.detail} ${JSON.stringify(body.errors ?? [])}`).toMatch(detail)
    }
    // A JSON body cannot pose as an upload (and so never names a file the API would read or remove).
    const posing = await fetch(`${apiUrl}/v1/submissions`, {
      method: 'POST',
      headers: { ...me.headers, 'content-type': 'application/json' },
      body: JSON.stringify({
        taskId,
        audio: { path: wav, bytes: 10, sha256: 'x', head: {}, declaredType: 'audio/wav', filename: 'a.wav' },
      }),
    })
    expect(posing.status).toBe(422)
    expect(statSync(wav).size).toBeGreaterThan(0)

    expect(await count()).toBe(rows)
    expect(storedObjects().length).toBe(before)
    expect(leftoverUploads()).toEqual([])
    expect(services.every((s) => s.proc.exitCode === null)).toBe(true)
  }, 90_000)
})

describe('deletion', () => {
  test('deleting a submission, and deleting the account, remove the recordings', async () => {
    const me = await learner(apiUrl)
    const ids: string[] = []
    for (let i = 0; i < 2; i++) {
      const res = await upload(apiUrl, me, { taskId, file: wav, filename: `a${i}.wav` })
      expect(res.status).toBe(202)
      ids.push(((await res.json()) as { id: string }).id)
    }
    const mine = () => storedObjects().filter((f) => f.includes(me.userId))
    expect(mine().length).toBe(2)
    expect((await fetch(`${apiUrl}/v1/submissions/${ids[0]}`, { method: 'DELETE', headers: me.headers })).status).toBe(204)
    expect(mine().length).toBe(1)
    const gone = await fetch(`${apiUrl}/v1/me`, {
      method: 'DELETE',
      headers: { ...me.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ password: me.password }),
    })
    expect(gone.status).toBe(204)
    expect(mine()).toEqual([])
    expect(Number((await sql<{ n: string }[]>`select count(*) as n from audio_deletions`)[0]!.n)).toBe(0)
  }, 60_000)
})
