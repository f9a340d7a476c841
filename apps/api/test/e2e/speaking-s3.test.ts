/**
 * The same spoken-answer flow with recordings in an S3-compatible bucket: a real S3 server process
 * (moto's, installed from PyPI with the worker's dev dependencies) on a free port, the API writing
 * through Bun's S3 client, the worker reading with its own SigV4-signed GETs.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { S3Client } from 'bun'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import { startService, waitFor, WORKER_DIR, type Service } from '../support/processes'
import { freePort, startTestRedis, type TestRedis } from '../support/redis-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../support/stack'
import { SPOKEN, learner, sha256, spokenWordsHeard, synthesise, upload, waitForFinal } from './speaking-support'

let database: TestDatabase
let redis: TestRedis
let keyDir: string
let workDir: string
let apiUrl: string
let s3: S3Client
const services: Service[] = []
const bucket = 'vstep-audio-test'

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false })
  redis = await startTestRedis()
  keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  workDir = mkdtempSync(join(tmpdir(), 'vstep-speech-'))
  const port = freePort()
  const endpoint = `http://127.0.0.1:${port}`
  services.push(
    startService('s3', [join(WORKER_DIR, '.venv/bin/moto_server'), '-H', '127.0.0.1', '-p', String(port)], { cwd: workDir, env: {} }),
  )
  await waitFor('the S3 server', async () => ((await fetch(`${endpoint}/`)).ok ? true : undefined), 30_000, services)
  expect((await fetch(`${endpoint}/${bucket}`, { method: 'PUT' })).status).toBe(200) // create the bucket
  const credentials = { S3_ACCESS_KEY_ID: 'test-key', S3_SECRET_ACCESS_KEY: 'test-secret', S3_REGION: 'us-east-1' }
  s3 = new S3Client({
    endpoint,
    bucket,
    region: 'us-east-1',
    accessKeyId: 'test-key',
    secretAccessKey: 'test-secret',
    virtualHostedStyle: false,
  })
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    AUDIO_STORAGE: 's3',
    S3_ENDPOINT: endpoint,
    S3_BUCKET: bucket,
    ...credentials,
  }
  apiUrl = await startApiProcess(services, { env: { ...env, RATE_LIMIT_REGISTER: '1000', AUDIO_TMP_DIR: workDir }, keyDir })
  seedDatabase(env)
  startWorkerProcess(services, { env })
}, 90_000)

afterAll(async () => {
  for (const service of services) await service.stop()
  await redis?.dispose()
  await database?.drop()
  for (const dir of [keyDir, workDir]) if (dir) rmSync(dir, { recursive: true, force: true })
})

const objects = async (prefix: string) => (await s3.list({ prefix })).contents?.map((o) => o.key) ?? []

test('upload to the bucket, transcription and grading from it, private download, and the account deletion empties it', async () => {
  const me = await learner(apiUrl)
  const taskRes = await fetch(`${apiUrl}/v1/tasks?part=speaking_part_2`)
  const taskId = ((await taskRes.json()) as { items: { id: string }[] }).items[0]!.id
  const wav = synthesise(workDir, 'answer', SPOKEN)
  const ids: string[] = []
  for (let i = 0; i < 2; i++) {
    const res = await upload(apiUrl, me, { taskId, file: wav, filename: 'answer.wav' })
    expect(res.status).toBe(202)
    ids.push(((await res.json()) as { id: string }).id)
  }
  expect((await objects(`audio/${me.userId}/`)).length).toBe(2)

  for (const id of ids) {
    expect(['completed', 'review_pending']).toContain(await waitForFinal(apiUrl, me, id))
    const got = (await (await fetch(`${apiUrl}/v1/submissions/${id}`, { headers: me.headers })).json()) as { transcript: string }
    expect(spokenWordsHeard(SPOKEN, got.transcript)).toBeGreaterThan(0.6)
  }
  const audio = await fetch(`${apiUrl}/v1/submissions/${ids[0]}/audio`, { headers: me.headers })
  expect(audio.status).toBe(200)
  expect(sha256(new Uint8Array(await audio.arrayBuffer()))).toBe(sha256(readFileSync(wav)))
  const part = await fetch(`${apiUrl}/v1/submissions/${ids[0]}/audio`, { headers: { ...me.headers, range: 'bytes=0-43' } })
  expect(part.status).toBe(206)
  expect(Buffer.from(await part.arrayBuffer()).equals(readFileSync(wav).subarray(0, 44))).toBe(true)

  // A refusal stores nothing in the bucket either.
  const text = join(workDir, 'essay.wav')
  await Bun.write(text, 'just text, renamed\n'.repeat(100))
  expect((await upload(apiUrl, me, { taskId, file: text, filename: 'essay.wav' })).status).toBe(415)
  expect((await objects(`audio/${me.userId}/`)).length).toBe(2)

  const gone = await fetch(`${apiUrl}/v1/me`, {
    method: 'DELETE',
    headers: { ...me.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ password: me.password }),
  })
  expect(gone.status).toBe(204)
  expect(await objects(`audio/${me.userId}/`)).toEqual([])
}, 120_000)
