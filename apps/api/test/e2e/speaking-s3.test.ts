/**
 * The same spoken-answer flow with recordings in an S3-compatible bucket: a real S3 server process
 * (moto's, installed from PyPI with the worker's dev dependencies) on a free port, the API writing
 * through Bun's S3 client, the worker reading with its own SigV4-signed GETs. The server CHECKS
 * signatures (test/support/s3-server.ts): the first test shows it refuses a wrong secret, so every
 * request that succeeds afterwards (uploads, single and multipart, HEAD, ranged GETs, LIST, DELETE
 * from the API; GETs from the worker) proves that side's signing.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase } from '@vstep/db/testing'
import { S3Client } from 'bun'
import { S3AudioStorage } from '../../src/storage/s3'
import type { Service } from '../support/processes'
import { startTestRedis, type TestRedis } from '../support/redis-server'
import { type SigningS3, startSigningS3 } from '../support/s3-server'
import { seedDatabase, startApiProcess, startWorkerProcess } from '../support/stack'
import { learner, SPOKEN, sha256, spokenWordsHeard, synthesise, upload, waitForFinal } from './speaking-support'

let database: TestDatabase
let redis: TestRedis
let keyDir: string
let workDir: string
let apiUrl: string
let server: SigningS3
let s3: S3Client
const services: Service[] = []

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false })
  redis = await startTestRedis()
  keyDir = mkdtempSync(join(tmpdir(), 'vstep-keys-'))
  workDir = mkdtempSync(join(tmpdir(), 'vstep-speech-'))
  server = await startSigningS3(services, { cwd: workDir, bucket: 'vstep-audio-test' })
  s3 = new S3Client({ ...server, virtualHostedStyle: false })
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    AUDIO_STORAGE: 's3',
    S3_ENDPOINT: server.endpoint,
    S3_BUCKET: server.bucket,
    S3_REGION: server.region,
    S3_ACCESS_KEY_ID: server.accessKeyId,
    S3_SECRET_ACCESS_KEY: server.secretAccessKey,
  }
  apiUrl = await startApiProcess(services, { env: { ...env, RATE_LIMIT_REGISTER: '1000', AUDIO_TMP_DIR: workDir }, keyDir })
  seedDatabase(env)
  startWorkerProcess(services, { env })
}, 120_000)

afterAll(async () => {
  for (const service of services) await service.stop()
  await redis?.dispose()
  await database?.drop()
  for (const dir of [keyDir, workDir]) if (dir) rmSync(dir, { recursive: true, force: true })
})

const objects = async (prefix: string) => (await s3.list({ prefix })).contents?.map((o) => o.key) ?? []

const storageWith = (change: Partial<SigningS3>) => new S3AudioStorage({ ...server, ...change })

test('the server checks signatures: a wrong secret or an unknown key is refused, and a refused read is not taken for a missing object', async () => {
  const source = join(workDir, 'probe.bin')
  await Bun.write(source, 'probe')
  const wrongSecret = storageWith({ secretAccessKey: `${server.secretAccessKey}x` })
  await expect(wrongSecret.put('audio/probe/wrong-secret.bin', source, 'audio/wav')).rejects.toMatchObject({
    code: 'SignatureDoesNotMatch',
  })
  await expect(
    storageWith({ accessKeyId: 'AKIANOSUCHKEY0000000' }).put('audio/probe/unknown-key.bin', source, 'audio/wav'),
  ).rejects.toMatchObject({
    code: 'InvalidAccessKeyId',
  })
  // Unsigned, too. (moto answers 500, a KeyError on the missing Authorization header, where S3 says
  // 403 AccessDenied; either way nothing is stored, which the listing below shows.)
  const unsigned = await fetch(`${server.endpoint}/${server.bucket}/audio/probe/unsigned.bin`, { method: 'PUT', body: 'x' })
  expect(unsigned.ok).toBe(false)

  const right = storageWith({})
  await right.put('audio/probe/stored.bin', source, 'audio/wav')
  // A refused HEAD throws: it is never read as "no such object", which GET .../audio would answer with 404.
  await expect(wrongSecret.size('audio/probe/stored.bin')).rejects.toThrow()
  await expect(new Response(wrongSecret.read('audio/probe/stored.bin', { start: 0, end: 1 })).arrayBuffer()).rejects.toThrow()
  await expect(wrongSecret.delete('audio/probe/stored.bin')).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' })
  expect(await right.size('audio/probe/stored.bin')).toBe(5)
  expect(await objects('audio/probe/')).toEqual(['audio/probe/stored.bin'])
  await right.delete('audio/probe/stored.bin')
  expect(await objects('audio/probe/')).toEqual([])
}, 30_000)

test('the API storage signs a multipart upload, HEAD, ranged reads and DELETE that the server accepts', async () => {
  // 6 MiB: over Bun's 5 MiB part size, so the upload is CreateMultipartUpload + UploadPart x2 +
  // CompleteMultipartUpload, each signed with its own query string.
  const bytes = new Uint8Array(6 * 1024 * 1024).map((_, i) => (i * 7) % 251)
  const source = join(workDir, 'large.bin')
  await Bun.write(source, bytes)
  const storage = storageWith({})
  const key = 'audio/probe/large recording+1.wav' // characters that must be URI-encoded in the signed path
  await storage.put(key, source, 'audio/wav')
  expect(await storage.size(key)).toBe(bytes.length)
  const slice = new Uint8Array(
    await new Response(storage.read(key, { start: 5 * 1024 * 1024 - 3, end: 5 * 1024 * 1024 + 2 })).arrayBuffer(),
  )
  expect([...slice]).toEqual([...bytes.subarray(5 * 1024 * 1024 - 3, 5 * 1024 * 1024 + 3)])
  expect(sha256(new Uint8Array(await new Response(storage.read(key)).arrayBuffer()))).toBe(sha256(bytes))
  await storage.delete(key)
  expect(await storage.size(key)).toBeNull()
  await storage.delete(key) // deleting a missing object is not an error
}, 60_000)

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
