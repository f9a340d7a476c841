import { createHash } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ProblemError, invalidField } from '../platform/problem'
import { payloadTooLarge } from '../platform/body-guard'

/**
 * A streaming `multipart/form-data` reader for one file upload: text fields are kept (small), the
 * file part goes straight to a temporary file while its SHA-256 is computed, so an upload is never
 * held whole in memory. The file is cut off (413) as soon as it passes `maxFileBytes`, whatever the
 * Content-Length said. On any failure the temporary file is removed before the error is thrown.
 */
export type UploadedFile = {
  field: string
  path: string
  bytes: number
  sha256: string
  /** The first bytes, for sniffing the format. */
  head: Uint8Array
  declaredType: string
  filename: string
}

/**
 * The file of an audio form once read: a class, so a route can tell it from anything a JSON body
 * could hold (JSON.parse never makes instances; a JSON `{"audio": {"path": …}}` is refused).
 */
export class UploadedAudio {
  constructor(readonly file: UploadedFile) {}
}
export type MultipartUpload = { fields: Record<string, string>; file: UploadedFile | null }
export type MultipartOptions = { fileField: string; textFields: readonly string[]; maxFileBytes: number; tmpDir: string }

const HEAD_BYTES = 4096
const MAX_FIELD_BYTES = 1024
const MAX_HEADER_BYTES = 8 * 1024
const CRLF = Buffer.from('\r\n')
const HEADER_END = Buffer.from('\r\n\r\n')

const badForm = (detail: string) => new ProblemError(400, 'Bad Request', detail)

/** The boundary parameter of a multipart Content-Type (RFC 2046: 1-70 characters), or null. */
export function boundaryOf(contentType: string | null): string | null {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '')
  return match ? (match[1] ?? match[2] ?? null) : null
}

type PartHeaders = { name: string; filename: string | null; type: string }

export function parsePartHeaders(text: string): PartHeaders {
  let name: string | null = null
  let filename: string | null = null
  let type = 'application/octet-stream'
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (key === 'content-disposition') {
      name = /;\s*name="([^"]*)"/i.exec(value)?.[1] ?? /;\s*name=([^\s;]+)/i.exec(value)?.[1] ?? null
      filename = /;\s*filename="([^"]*)"/i.exec(value)?.[1] ?? /;\s*filename=([^\s;]+)/i.exec(value)?.[1] ?? null
    } else if (key === 'content-type') type = value.split(';', 1)[0]!.trim().toLowerCase()
  }
  if (name === null) throw badForm('a multipart part has no Content-Disposition name')
  return { name, filename, type }
}

export async function readMultipartUpload(request: Request, boundary: string, options: MultipartOptions): Promise<MultipartUpload> {
  if (!request.body) throw badForm('the multipart body is empty')
  const dashBoundary = Buffer.from(`--${boundary}`)
  const delimiter = Buffer.concat([CRLF, dashBoundary])
  const reader = request.body.getReader()
  const fields: Record<string, string> = {}
  let file: UploadedFile | null = null
  const path = join(options.tmpDir, `vstep-upload-${crypto.randomUUID()}`)
  let handle: Awaited<ReturnType<typeof open>> | null = null
  let hasher: ReturnType<typeof createHash> | null = null
  const head: Buffer[] = []
  let headBytes = 0
  let fileBytes = 0
  let field: { name: string; chunks: Buffer[]; bytes: number } | null = null
  let state: 'preamble' | 'after-boundary' | 'headers' | 'body' | 'done' = 'preamble'
  let buf: Buffer = Buffer.alloc(0)
  let ended = false

  const emit = async (data: Buffer) => {
    if (data.length === 0) return
    if (field) {
      field.bytes += data.length
      if (field.bytes > MAX_FIELD_BYTES) throw invalidField(field.name, `must be at most ${MAX_FIELD_BYTES} bytes`)
      field.chunks.push(data)
      return
    }
    fileBytes += data.length
    if (fileBytes > options.maxFileBytes) throw payloadTooLarge(options.maxFileBytes)
    hasher!.update(data)
    if (headBytes < HEAD_BYTES) {
      head.push(data.subarray(0, HEAD_BYTES - headBytes))
      headBytes += Math.min(data.length, HEAD_BYTES - headBytes)
    }
    await handle!.write(data)
  }

  const finishPart = async () => {
    if (field) {
      fields[field.name] = Buffer.concat(field.chunks).toString('utf8')
      field = null
    }
  }

  try {
    for (;;) {
      if (!ended) {
        const { done, value } = await reader.read()
        if (done) ended = true
        else buf = buf.length ? Buffer.concat([buf, value]) : Buffer.from(value)
      }
      let progressed = true
      while (progressed && state !== 'done') {
        progressed = false
        if (state === 'preamble') {
          const at = buf.indexOf(dashBoundary)
          if (at >= 0) {
            buf = buf.subarray(at + dashBoundary.length)
            state = 'after-boundary'
            progressed = true
          } else if (buf.length > MAX_HEADER_BYTES) throw badForm('no multipart boundary found')
        } else if (state === 'after-boundary') {
          if (buf.length < 2) break
          if (buf[0] === 0x2d && buf[1] === 0x2d) state = 'done'
          else {
            const eol = buf.indexOf(CRLF)
            if (eol < 0) {
              if (buf.length > 256) throw badForm('malformed multipart boundary line')
              break
            }
            buf = buf.subarray(eol + 2) // transport padding after the boundary is allowed
            state = 'headers'
            progressed = true
          }
        } else if (state === 'headers') {
          const end = buf.indexOf(HEADER_END)
          if (end < 0) {
            if (buf.length > MAX_HEADER_BYTES) throw badForm('multipart part headers are too long')
            break
          }
          const part = parsePartHeaders(buf.subarray(0, end).toString('utf8'))
          buf = buf.subarray(end + 4)
          if (part.name === options.fileField && part.filename !== null) {
            if (file || handle) throw invalidField(options.fileField, 'only one file may be sent')
            handle = await open(path, 'wx', 0o600)
            hasher = createHash('sha256')
            file = {
              field: part.name,
              path,
              bytes: 0,
              sha256: '',
              head: new Uint8Array(),
              declaredType: part.type,
              filename: part.filename,
            }
          } else if (options.textFields.includes(part.name) && part.filename === null) {
            if (part.name in fields) throw invalidField(part.name, 'was sent twice')
            field = { name: part.name, chunks: [], bytes: 0 }
          } else if (part.name === options.fileField) {
            throw invalidField(options.fileField, 'must be a file part (with a filename)')
          } else {
            throw invalidField(part.name, 'is not a field of this form')
          }
          state = 'body'
          progressed = true
        } else if (state === 'body') {
          const at = buf.indexOf(delimiter)
          if (at >= 0) {
            await emit(buf.subarray(0, at))
            await finishPart()
            buf = buf.subarray(at + delimiter.length)
            state = 'after-boundary'
            progressed = true
          } else if (buf.length > delimiter.length) {
            // Keep a tail that could be the start of the delimiter; everything before it is data.
            const keep = delimiter.length
            await emit(buf.subarray(0, buf.length - keep))
            buf = Buffer.from(buf.subarray(buf.length - keep))
          }
        }
      }
      if (state === 'done') break
      if (ended) throw badForm('the multipart body ended before its closing boundary')
    }
    if (!ended) await reader.cancel().catch(() => {})
    if (handle) await handle.close()
    handle = null
    if (file) {
      const done: UploadedFile = file
      return { fields, file: { ...done, bytes: fileBytes, sha256: hasher!.digest('hex'), head: new Uint8Array(Buffer.concat(head)) } }
    }
    return { fields, file: null }
  } catch (error) {
    await reader.cancel().catch(() => {})
    if (handle) await handle.close().catch(() => {})
    await rm(path, { force: true })
    throw error
  }
}
