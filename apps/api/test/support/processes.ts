import { resolve } from 'node:path'

export const REPO_ROOT = resolve(import.meta.dir, '../../../..')
export const WORKER_DIR = resolve(REPO_ROOT, 'workers/grader-py')

export type Service = { name: string; proc: ReturnType<typeof Bun.spawn>; output: () => string; stop: () => Promise<void> }

/** Starts a real process whose output is kept for failure messages; `stop` sends SIGTERM, then SIGKILL. */
export function startService(name: string, cmd: string[], options: { cwd: string; env: Record<string, string> }): Service {
  let output = ''
  const proc = Bun.spawn(cmd, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdout: 'pipe', stderr: 'pipe' })
  // Never leave a service behind if the test process exits without its afterAll.
  process.once('exit', () => proc.kill('SIGTERM')) // uv forwards SIGTERM to the worker; SIGKILL would orphan it
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const reader = stream.getReader()
      const decoder = new TextDecoder()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        output += decoder.decode(value, { stream: true })
      }
    })()
  }
  return {
    name,
    proc,
    output: () => output,
    stop: async () => {
      if (proc.exitCode !== null) return
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000)
      await proc.exited
      clearTimeout(timer)
    },
  }
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  services: Service[] = [],
): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    const dead = services.find((s) => s.proc.exitCode !== null)
    if (dead) throw new Error(`${dead.name} exited with ${dead.proc.exitCode} while waiting for ${what}:\n${dead.output()}`)
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${what}\n${services.map((s) => `--- ${s.name}\n${s.output()}`).join('\n')}`)
    }
    await Bun.sleep(50) // the poll interval of a condition with a deadline
  }
}
