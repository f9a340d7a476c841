import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sniffAudio, wavIsTruncated } from '../../src/submissions/audio-format'
import { judgeRecording, parseProbeOutput } from '../../src/submissions/audio-probe'
import { boundaryOf, readMultipartUpload } from '../../src/submissions/multipart'
import { parseRange } from '../../src/submissions/range'

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)))

/** A RIFF/WAVE header whose data chunk claims `dataBytes`. */
function wavHeader(dataBytes: number): Uint8Array {
  const b = new Uint8Array(44)
  const v = new DataView(b.buffer)
  b.set(bytes('RIFF'), 0)
  v.setUint32(4, 36 + dataBytes, true)
  b.set(bytes('WAVEfmt '), 8)
  v.setUint32(16, 16, true)
  b.set(bytes('data'), 36)
  v.setUint32(40, dataBytes, true)
  return b
}

describe('sniffAudio', () => {
  test('recognises each container by its bytes', () => {
    expect(sniffAudio(wavHeader(10))).toBe('audio/wav')
    expect(sniffAudio(bytes([0x1a, 0x45, 0xdf, 0xa3], 'rest-of-ebml'))).toBe('audio/webm')
    expect(sniffAudio(bytes('OggS', [0, 2, 0, 0, 0, 0, 0, 0]))).toBe('audio/ogg')
    expect(sniffAudio(bytes([0, 0, 0, 0x20], 'ftypM4A ', [0, 0]))).toBe('audio/mp4')
    expect(sniffAudio(bytes('ID3', [4, 0, 0, 0, 0, 0, 0]))).toBe('audio/mpeg')
    expect(sniffAudio(bytes([0xff, 0xfb, 0x90, 0x64]))).toBe('audio/mpeg') // MPEG-1 layer III, 128 kbit/s
  })
  test('refuses what is not audio, whatever its name', () => {
    expect(sniffAudio(bytes('This is an essay renamed to .wav'))).toBeNull()
    expect(sniffAudio(bytes([0x89], 'PNG\r\n', [0x1a, 0x0a]))).toBeNull()
    expect(sniffAudio(bytes([0xff, 0xff, 0xff, 0xff]))).toBeNull() // sync bits but a reserved version/layer
    expect(sniffAudio(new Uint8Array())).toBeNull()
  })
})

test('wavIsTruncated: the data chunk must fit in the file; streaming sizes (0, 0xFFFFFFFF) are not truncation', () => {
  expect(wavIsTruncated(wavHeader(1000), 44 + 1000)).toBe(false)
  expect(wavIsTruncated(wavHeader(1000), 44 + 999)).toBe(true)
  expect(wavIsTruncated(wavHeader(0), 44 + 5000)).toBe(false)
  expect(wavIsTruncated(wavHeader(0xffffffff), 44 + 5000)).toBe(false)
})

test('parseRange: one range, suffixes, open ends; bad syntax ignored; past the end unsatisfiable', () => {
  expect(parseRange(null, 100)).toBeNull()
  expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 })
  expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 })
  expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 })
  expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 })
  expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 })
  expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable')
  expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable')
  expect(parseRange('bytes=0-1,5-9', 100)).toBeNull() // several ranges: the whole file
  expect(parseRange('bytes=9-1', 100)).toBeNull()
  expect(parseRange('items=0-1', 100)).toBeNull()
})

describe('the ffmpeg check', () => {
  const ok = '[Parsed_volumedetect_2 @ 0x1] [info] n_samples: 160000\n[Parsed_volumedetect_2 @ 0x1] [info] max_volume: -3.2 dB\n'
  test('parses duration and loudness; errors and missing audio are unreadable', () => {
    expect(parseProbeOutput(ok, 0)).toEqual({ ok: true, durationSeconds: 10, maxVolumeDb: -3.2 })
    expect(parseProbeOutput(`[matroska,webm @ 0x2] [error] File ended prematurely\n${ok}`, 0)).toEqual({
      ok: false,
      reason: 'File ended prematurely',
    })
    expect(parseProbeOutput('[fatal] Invalid data found when processing input', 1)).toMatchObject({ ok: false })
    expect(parseProbeOutput('', 0)).toEqual({ ok: false, reason: 'no audio stream' })
    expect(parseProbeOutput(ok.replace('-3.2', '-inf'), 0)).toMatchObject({ ok: true, maxVolumeDb: -Infinity })
  })
  test('judges: damaged, too long, too short, silent, fine', () => {
    const limits = { maxSeconds: 60, minSeconds: 1 }
    expect(judgeRecording({ ok: false, reason: 'x' }, limits)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/damaged or incomplete/),
    })
    expect(judgeRecording({ ok: true, durationSeconds: 61, maxVolumeDb: -3 }, limits)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/at most 60 s/),
    })
    expect(judgeRecording({ ok: true, durationSeconds: 0.5, maxVolumeDb: -3 }, limits)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/at least 1 s/),
    })
    expect(judgeRecording({ ok: true, durationSeconds: 10, maxVolumeDb: -91 }, limits)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/silent/),
    })
    expect(judgeRecording({ ok: true, durationSeconds: 10, maxVolumeDb: -3 }, limits)).toEqual({ ok: true })
  })
})

describe('readMultipartUpload', () => {
  const boundary = 'XyZ-boundary'
  const form = (file: Uint8Array, extra = '') =>
    Buffer.concat([
      Buffer.from(
        `preamble\r\n--${boundary}\r\nContent-Disposition: form-data; name="taskId"\r\n\r\n0b0e0f00-0000-4000-8000-000000000000\r\n${extra}`,
      ),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ])
  /** The body in chunks of `size` bytes, so boundaries fall across chunk edges. */
  const request = (body: Uint8Array, size: number) =>
    new Request('http://x/', {
      method: 'POST',
      body: new ReadableStream<Uint8Array>({
        start(c) {
          for (let at = 0; at < body.length; at += size) c.enqueue(body.subarray(at, at + size))
          c.close()
        },
      }),
    })
  const options = (tmpDir: string, maxFileBytes = 1 << 20) => ({ fileField: 'audio', textFields: ['taskId'], maxFileBytes, tmpDir })
  // Bytes that look like parts of the delimiter, to catch a parser that cuts the file short.
  const file = new Uint8Array(
    Buffer.concat([Buffer.from(`\r\n--${boundary.slice(0, 5)}\r\n-`), Buffer.alloc(70_000, 0xab), Buffer.from('\r\n--')]),
  )

  test('streams the file to disk whole, at any chunk size, with its hash and head', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'multipart-'))
    try {
      for (const size of [1, 7, 64, 4096, 1 << 20]) {
        const out = await readMultipartUpload(request(form(file), size), boundary, options(dir))
        expect(out.fields.taskId).toBe('0b0e0f00-0000-4000-8000-000000000000')
        expect(out.file).toMatchObject({ bytes: file.length, declaredType: 'audio/wav', filename: 'a.wav' })
        expect(Buffer.from(readFileSync(out.file!.path)).equals(Buffer.from(file))).toBe(true)
        expect(out.file!.sha256).toBe(new Bun.CryptoHasher('sha256').update(file).digest('hex'))
        expect(Buffer.from(out.file!.head).equals(Buffer.from(file.subarray(0, 4096)))).toBe(true)
        rmSync(out.file!.path)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 30_000)

  test('too large (413), unknown field, unterminated body: refused with nothing left on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'multipart-'))
    try {
      await expect(readMultipartUpload(request(form(file), 1000), boundary, options(dir, 1000))).rejects.toMatchObject({ status: 413 })
      const unknown = `--${boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n`
      await expect(readMultipartUpload(request(form(file, unknown), 100), boundary, options(dir))).rejects.toMatchObject({ status: 422 })
      const cut = form(file).subarray(0, 50_000)
      await expect(readMultipartUpload(request(cut, 4096), boundary, options(dir))).rejects.toMatchObject({ status: 400 })
      expect(readdirSync(dir)).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('boundaryOf reads quoted and bare boundaries', () => {
    expect(boundaryOf('multipart/form-data; boundary=abc')).toBe('abc')
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe('a b')
    expect(boundaryOf('multipart/form-data')).toBeNull()
  })
})
