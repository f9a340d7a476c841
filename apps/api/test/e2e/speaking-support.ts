/** Helpers of the speaking end-to-end tests: synthesised speech, multipart uploads, SSE waits. */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** An answer to the seeded Part 2 task (US spellings: the recogniser's dictionary is American). */
export const SPOKEN =
  'I think the best idea is the photo book because every student can write a message to her. ' +
  'A trip to the seaside is expensive and a party at the school is difficult to organize. ' +
  'She can keep the book for many years and remember her students.'

export type Client = { userId: string; email: string; password: string; headers: Record<string, string> }

/** Registers a learner (optionally changed before signing in, e.g. promoted) and signs in. */
export async function learner(apiUrl: string, before?: (email: string) => Promise<void>): Promise<Client> {
  const email = `speaker-${crypto.randomUUID()}@example.test`
  const password = 'a long enough password'
  const reg = await fetch(`${apiUrl}/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, displayName: 'Speaker' }),
  })
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${await reg.text()}`)
  if (before) await before(email)
  const login = await fetch(`${apiUrl}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  })
  const body = (await login.json()) as { accessToken: string; user: { id: string } }
  return { userId: body.user.id, email, password, headers: { authorization: `Bearer ${body.accessToken}` } }
}

function run(cmd: string[]): void {
  const done = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' })
  if (done.exitCode !== 0) throw new Error(`${cmd[0]} failed: ${done.stderr.toString()}`)
}

/** Speech from espeak-ng (a US English voice the offline recogniser hears well) as a WAV file. */
export function synthesise(dir: string, name: string, text: string): string {
  const out = join(dir, `${name}.wav`)
  run(['espeak-ng', '-v', 'en-us+f2', '-s', '150', '-w', out, text])
  return out
}

/** ffmpeg from `input` (or from the lavfi source in `args` when null) to `output`. */
export function ffmpeg(input: string | null, output: string, args: string[]): string {
  run(['ffmpeg', '-nostdin', '-v', 'error', '-y', ...(input ? ['-i', input] : []), ...args, output])
  return output
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Share of the distinct spoken words that appear in the transcript. */
export function spokenWordsHeard(spoken: string, transcript: string): number {
  const words = (s: string) => new Set(s.toLowerCase().match(/[a-z']+/g) ?? [])
  const said = words(spoken)
  const heard = words(transcript)
  return [...said].filter((w) => heard.has(w)).length / said.size
}

/** POST /v1/submissions as multipart/form-data; `chunked` streams it without a Content-Length. */
export async function upload(
  apiUrl: string,
  who: Client,
  o: { taskId: string; file: string | null; filename: string; type?: string; chunked?: boolean; idempotencyKey?: string },
): Promise<Response> {
  const boundary = `----vstep${crypto.randomUUID()}`
  const parts: Buffer[] = [Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="taskId"\r\n\r\n${o.taskId}\r\n`)]
  if (o.file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="${o.filename}"\r\nContent-Type: ${o.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      readFileSync(o.file),
      Buffer.from('\r\n'),
    )
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  const whole = Buffer.concat(parts)
  const headers: Record<string, string> = { ...who.headers, 'content-type': `multipart/form-data; boundary=${boundary}` }
  if (o.idempotencyKey) headers['idempotency-key'] = o.idempotencyKey
  const body = o.chunked
    ? new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < whole.length; at += 64 * 1024) controller.enqueue(whole.subarray(at, at + 64 * 1024))
          controller.close()
        },
      })
    : whole
  return fetch(`${apiUrl}/v1/submissions`, { method: 'POST', headers, body })
}

const FINAL = new Set(['completed', 'review_pending', 'failed'])

/** Follows the submission's SSE stream until it reaches a final status; returns that status. */
export async function waitForFinal(apiUrl: string, who: Client, id: string, timeoutMs = 60_000): Promise<string> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), timeoutMs)
  try {
    const res = await fetch(`${apiUrl}/v1/submissions/${id}/events`, { headers: who.headers, signal: abort.signal })
    if (!res.ok || !res.body) throw new Error(`stream failed: ${res.status}`)
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error('the stream ended before a final status')
      buffer += value
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        if (!/^event: status$/m.test(message)) continue
        const data = JSON.parse(/^data: (.*)$/m.exec(message)![1]!) as { to: string }
        if (FINAL.has(data.to)) {
          abort.abort()
          return data.to
        }
      }
    }
  } finally {
    clearTimeout(timer)
  }
}
