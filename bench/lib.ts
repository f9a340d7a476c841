/** Helpers of the benchmark scenarios (bench/scenarios.ts): wrk, percentiles, the bare floor server, SSE reading. */
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}
export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits

export type WrkResult = { rps: number; p50: number; p99: number; requests: number; non2xx: number; errors: number }

const toMs = (value: string, unit: string) => Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit]!

/** Runs wrk (`--latency`) and parses throughput, p50/p99 (ms) and the non-2xx count. */
export function wrk(
  url: string,
  options: {
    connections?: number
    seconds?: number
    headers?: Record<string, string>
    method?: string
    body?: string
    threads?: number
  } = {},
): WrkResult {
  const args = ['wrk', `-t${options.threads ?? 2}`, `-c${options.connections ?? 64}`, `-d${options.seconds ?? 5}s`, '--latency']
  for (const [k, v] of Object.entries(options.headers ?? {})) args.push('-H', `${k}: ${v}`)
  if (options.method) {
    const script = join(tmpdir(), `wrk-${crypto.randomUUID()}.lua`)
    writeFileSync(script, `wrk.method = ${JSON.stringify(options.method)}\nwrk.body = ${JSON.stringify(options.body ?? '')}\n`)
    args.push('-s', script)
  }
  args.push(url)
  const run = Bun.spawnSync(args, { stdout: 'pipe', stderr: 'pipe' })
  const out = run.stdout.toString()
  if (run.exitCode !== 0) throw new Error(`wrk failed: ${run.stderr.toString()}${out}`)
  const latency = (p: string) => {
    const m = out.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm'))
    return m ? toMs(m[1]!, m[2]!) : Number.NaN
  }
  const requests = Number(out.match(/(\d+) requests in/)?.[1] ?? 0)
  const errorCounts = [...out.matchAll(/(connect|read|write|timeout) (\d+)/g)].reduce((n, m) => n + Number(m[2]), 0)
  return {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? 0),
    p50: latency('50'),
    p99: latency('99'),
    requests,
    non2xx: Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    errors: errorCounts,
  }
}

/** Starts bench/bare-server.ts: a bare Elysia app answering each path with fixed bytes (the floor). */
export async function startBareServer(bodies: Record<string, string>): Promise<{ url: string; stop: () => void }> {
  const file = join(tmpdir(), `bare-${crypto.randomUUID()}.json`)
  writeFileSync(file, JSON.stringify(bodies))
  const proc = Bun.spawn(['bun', join(import.meta.dir, 'bare-server.ts'), file], { stdout: 'pipe', stderr: 'inherit' })
  const reader = proc.stdout.getReader()
  let text = ''
  while (!text.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error('bare server exited')
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  return { url: text.trim(), stop: () => proc.kill() }
}

/** Resident set size of a process, in bytes (Linux). */
export async function rssOf(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text()
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]) * 1024
}

/** Reads an SSE body and calls `onFrame` for every frame (event name and data). */
export async function readSse(body: ReadableStream<Uint8Array>, onFrame: (event: string, data: string) => boolean | void): Promise<void> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += decoder.decode(value, { stream: true })
    let end = buffer.indexOf('\n\n')
    while (end >= 0) {
      let event = 'message'
      let data = ''
      for (const line of buffer.slice(0, end).split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data += line.slice(5).trim()
      }
      buffer = buffer.slice(end + 2)
      if (onFrame(event, data) === true) {
        await reader.cancel().catch(() => {})
        return
      }
      end = buffer.indexOf('\n\n')
    }
  }
}

/** The load average (1, 5 and 15 minutes) as /proc/loadavg gives it. */
export const loadAverage = (): string => Bun.spawnSync(['cat', '/proc/loadavg']).stdout.toString().trim().split(' ').slice(0, 3).join(' ')

export const machine = () => {
  const cpu = Bun.spawnSync(['sh', '-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).stdout.toString().trim()
  const mem = Number(Bun.spawnSync(['sh', '-c', "grep MemTotal /proc/meminfo | awk '{print $2}'"]).stdout.toString().trim()) * 1024
  const load = loadAverage()
  const version = (cmd: string[]) => Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' }).stdout.toString().trim().split('\n')[0] ?? ''
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: round(mem / 2 ** 30, 1),
    bun: Bun.version,
    postgres: version(['psql', '--version']),
    redis: version(['redis-server', '--version']),
    wrk: version(['sh', '-c', 'wrk -v 2>&1 | head -1']),
    loadAverageAtStart: load,
  }
}

/** CPU seconds (user + system) used so far by a process and all its descendants (Linux /proc, 100 Hz ticks). */
export function cpuSecondsOfTree(root: number): number {
  const { readdirSync, readFileSync } = require('node:fs') as typeof import('node:fs')
  const stats = new Map<number, { ppid: number; ticks: number }>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) })
    } catch {
      // the process ended meanwhile
    }
  }
  let ticks = 0
  const stack = [root]
  while (stack.length) {
    const pid = stack.pop()!
    ticks += stats.get(pid)?.ticks ?? 0
    for (const [child, s] of stats) if (s.ppid === pid) stack.push(child)
  }
  return ticks / 100
}
