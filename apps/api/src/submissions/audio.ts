import { rm } from 'node:fs/promises'
import { setEventActor } from '../platform/transaction'
import { tmpdir } from 'node:os'
import { inArray, sql } from 'drizzle-orm'
import { AUDIO_LIMITS, GRADING_POLICY, userActor, type Submission } from '@vstep/contracts'
import { audioDeletions, reviews, submissions } from '@vstep/db'
import type { CurrentUser } from '../auth/guard'
import { MULTIPART_OVERHEAD_BYTES, type Config } from '../config'
import type { AppDeps } from '../deps'
import { mediaTypeOf, type BodyPolicy } from '../platform/body-guard'
import { invalidField, notFound, ProblemError } from '../platform/problem'
import { createAudioStorage, type AudioStorage } from '../storage'
import { EXTENSION_OF, sniffAudio, wavIsTruncated } from './audio-format'
import { judgeRecording, probeAudio } from './audio-probe'
import { enqueueGrading } from './grading-queue'
import { boundaryOf, readMultipartUpload, UploadedAudio } from './multipart'
import { parseRange } from './range'
import { toSubmission } from './queries'
import { assertIdempotencyKey, deadlineFor, replayOf, type CreateOutcome } from './service'
import { taskFacts } from './task-facts'
import { errorFields, log } from '../platform/logger'

/**
 * Spoken answers: the multipart upload (checked before anything is stored), the private download
 * with Range support, and the purge of recordings whose submission is gone.
 */

/** What the multipart parser hands the route: a checked taskId and the file, already on disk. */
export type AudioForm = { taskId: string; audio: UploadedAudio }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** One storage backend per configuration (the app is built once per process; tests build several). */
const storages = new WeakMap<Config, AudioStorage>()
export function audioStorageOf(deps: Pick<AppDeps, 'config'>): AudioStorage {
  let storage = storages.get(deps.config)
  if (!storage) {
    storage = createAudioStorage(deps.config)
    storages.set(deps.config, storage)
  }
  return storage
}

const tmpDirOf = (config: Config) => config.AUDIO_TMP_DIR ?? tmpdir()

/**
 * The body-gate policy of POST /v1/submissions: JSON keeps the small limit, multipart may carry a
 * recording of up to AUDIO_MAX_BYTES. The form is read as a stream (multipart.ts); it must hold
 * exactly `taskId` and one `audio` file, or nothing is kept.
 */
export function audioUploadPolicy(config: Config): Partial<BodyPolicy> {
  return {
    otherMaxBytes: config.AUDIO_MAX_BYTES + MULTIPART_OVERHEAD_BYTES,
    otherMediaTypes: {
      'multipart/form-data': async (request: Request): Promise<AudioForm> => {
        const boundary = boundaryOf(request.headers.get('content-type'))
        if (!boundary) throw new ProblemError(400, 'Bad Request', 'multipart/form-data needs a boundary parameter')
        const { fields, file } = await readMultipartUpload(request, boundary, {
          fileField: AUDIO_LIMITS.fields.audio,
          textFields: [AUDIO_LIMITS.fields.taskId],
          maxFileBytes: config.AUDIO_MAX_BYTES,
          tmpDir: tmpDirOf(config),
        })
        const taskId = fields[AUDIO_LIMITS.fields.taskId]?.trim()
        const problem = !file
          ? invalidField('audio', 'a recording file is required')
          : !taskId || !UUID.test(taskId)
            ? invalidField('taskId', 'must be a task id (UUID)')
            : file.bytes === 0
              ? invalidField('audio', 'the file is empty')
              : null
        if (problem) {
          if (file) await rm(file.path, { force: true })
          throw problem
        }
        return { taskId: taskId!, audio: new UploadedAudio(file!) }
      },
    },
  }
}

const unsupported = (detail: string) =>
  new ProblemError(415, 'Unsupported Media Type', detail, {
    headers: { 'accept-post': 'application/json, multipart/form-data' },
    errors: [{ field: 'audio', message: `must be one of ${AUDIO_LIMITS.mediaTypes.join(', ')}` }],
  })

/** The fingerprint of an audio request under an Idempotency-Key: the task and the file's hash. */
const audioRequestHash = (taskId: string, sha256: string) =>
  new Bun.CryptoHasher('sha256').update(JSON.stringify([taskId, 'audio', sha256])).digest('hex')

/**
 * Checks the recording (format from its bytes: 415; damaged, truncated, too long, too short or
 * silent: 422), then stores it under an unguessable key and inserts the submission. Nothing is kept
 * on any refusal: the temporary file is always removed, and a stored object whose row could not be
 * inserted is deleted again.
 */
export async function createAudioSubmission(
  deps: AppDeps,
  user: CurrentUser,
  form: AudioForm,
  idempotencyKey: string | undefined,
): Promise<CreateOutcome> {
  const file = form.audio.file
  try {
    assertIdempotencyKey(idempotencyKey)
    const hash = audioRequestHash(form.taskId, file.sha256)
    if (idempotencyKey) {
      const replay = await replayOf(deps, user.id, idempotencyKey, hash)
      if (replay) return replay
    }
    const task = await taskFacts(deps).get(form.taskId) // held in memory (task-facts.ts)
    if (!task) throw invalidField('taskId', 'no task has this id')
    if (task.skill !== 'speaking') throw invalidField('audio', 'writing tasks take a typed answer (JSON answerText), not a recording')

    const mediaType = sniffAudio(file.head)
    if (!mediaType) {
      const declared = mediaTypeOf(file.declaredType)
      throw unsupported(
        `the file is not a recording in a supported format (declared ${declared || 'no type'}; its bytes are not ${AUDIO_LIMITS.mediaTypes.join(', ')})`,
      )
    }
    if (mediaType === 'audio/wav' && wavIsTruncated(file.head, file.bytes)) {
      throw invalidField('audio', 'the recording is incomplete: the WAV file is cut off before its end')
    }
    const probe = await probeAudio(deps.config.FFMPEG_PATH, file.path)
    const verdict = judgeRecording(probe, { maxSeconds: deps.config.AUDIO_MAX_SECONDS, minSeconds: deps.config.AUDIO_MIN_SECONDS })
    if (!verdict.ok || !probe.ok) throw invalidField('audio', verdict.ok ? 'the recording cannot be read' : verdict.message)
    const seconds = Math.round(probe.durationSeconds * 100) / 100

    // The id is chosen here so the key can carry it; both are random (no guessable URL exists anyway).
    const id = crypto.randomUUID()
    const key = `audio/${user.id}/${id}.${EXTENSION_OF[mediaType]}`
    const storage = audioStorageOf(deps)
    await storage.put(key, file.path, mediaType)
    const toHuman = task.gradingMode === 'human'
    let row: typeof submissions.$inferSelect | null = null
    try {
      row = await deps.db.transaction(async (tx) => {
        await setEventActor(tx, userActor(user.id))
        const [inserted] = await tx
          .insert(submissions)
          .values({
            id,
            userId: user.id,
            taskId: task.id,
            skill: task.skill,
            status: toHuman ? 'review_pending' : 'pending',
            gradingMode: task.gradingMode,
            reviewPriority: toHuman ? GRADING_POLICY.humanModePriority : null,
            audioRef: key,
            audioMediaType: mediaType,
            audioBytes: file.bytes,
            audioSeconds: seconds,
            idempotencyKey: idempotencyKey ?? null,
            requestHash: idempotencyKey ? hash : null,
            deadlineAt: toHuman ? null : deadlineFor(deps.config, task.skill),
          })
          .onConflictDoNothing({
            target: [submissions.userId, submissions.idempotencyKey],
            where: sql`${submissions.idempotencyKey} is not null`,
          })
          .returning()
        if (!inserted) return null
        if (toHuman)
          await tx.insert(reviews).values({ submissionId: inserted.id, priority: GRADING_POLICY.humanModePriority, reason: 'human_mode' })
        return inserted
      })
    } finally {
      if (!row) await storage.delete(key).catch((error) => log.error(errorFields(error), 'could not delete an unused recording'))
    }
    if (!row) {
      const replay = await replayOf(deps, user.id, idempotencyKey!, hash)
      if (!replay) throw new Error('idempotency conflict without a stored submission')
      return replay
    }
    if (!toHuman) await enqueueGrading(deps, row.id)
    return { submission: toSubmission(row, []) as Submission, replayed: false }
  } finally {
    await rm(file.path, { force: true })
  }
}

/**
 * GET /v1/submissions/:id/audio after the access check: the bytes, whole (200) or one range (206),
 * never cached by shared caches. A missing object is a 404 like any other.
 */
export async function audioResponse(deps: AppDeps, row: typeof submissions.$inferSelect, rangeHeader: string | null): Promise<Response> {
  if (!row.audioRef || !row.audioMediaType) throw notFound('recording')
  const storage = audioStorageOf(deps)
  const size = await storage.size(row.audioRef)
  if (size === null) throw notFound('recording')
  const headers: Record<string, string> = {
    'content-type': row.audioMediaType,
    'accept-ranges': 'bytes',
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
    'content-disposition': 'inline',
  }
  const range = parseRange(rangeHeader, size)
  if (range === 'unsatisfiable') {
    return new Response(null, { status: 416, headers: { ...headers, 'content-range': `bytes */${size}` } })
  }
  if (range) {
    return new Response(storage.read(row.audioRef, range), {
      status: 206,
      headers: {
        ...headers,
        'content-range': `bytes ${range.start}-${range.end}/${size}`,
        'content-length': String(range.end - range.start + 1),
      },
    })
  }
  return new Response(storage.read(row.audioRef), { status: 200, headers: { ...headers, 'content-length': String(size) } })
}

/**
 * Deletes the objects of recordings whose submission is gone (queued by a database trigger), then
 * their queue rows. Safe to run anywhere, any time: a failed delete stays queued for the next run.
 */
export async function purgeDeletedAudio(deps: AppDeps, limit = 200): Promise<number> {
  const queued = await deps.db.select({ key: audioDeletions.key }).from(audioDeletions).limit(limit)
  if (queued.length === 0) return 0
  const storage = audioStorageOf(deps)
  const done: string[] = []
  for (const { key } of queued) {
    try {
      await storage.delete(key)
      done.push(key)
    } catch (error) {
      log.error({ key, ...errorFields(error) }, 'could not delete a recording; will retry')
    }
  }
  if (done.length) await deps.db.delete(audioDeletions).where(inArray(audioDeletions.key, done))
  return done.length
}
