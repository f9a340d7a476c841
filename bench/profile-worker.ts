/**
 * Where one worker's time goes at the pipeline's steady rate: a stack with one worker, `--rate`
 * submissions a second for `--seconds`, while py-spy samples the worker process (and its children)
 * into a flame graph and a top-functions table. Needs py-spy (`uv tool install py-spy`).
 * Usage: bun bench/profile-worker.ts [--rate 50] [--seconds 20] [--out /tmp/worker-profile]
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startStack, steadyPipeline } from './scenarios'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    out: { type: 'string', default: '/tmp/worker-profile' },
    poll: { type: 'string', default: '0.05' },
  },
})
const rate = Number(values.rate)
const seconds = Number(values.seconds)
mkdirSync(values.out!, { recursive: true })
const stack = await startStack({ SSE_MAX_STREAMS_PER_USER: '1000' })
try {
  await stack.addWorkers(1, { WORKER_POLL_DELAY_SECONDS: values.poll! })
  const worker = stack.services.find((s) => s.name.startsWith('worker'))!
  const spy = (format: string, file: string) =>
    Bun.spawn(
      [
        'py-spy',
        'record',
        '--subprocesses',
        '--nonblocking',
        '-r',
        '200',
        '-d',
        String(seconds),
        '-f',
        format,
        '-o',
        join(values.out!, file),
        '-p',
        String(worker.proc.pid),
      ],
      { stdout: 'ignore', stderr: 'inherit' },
    )
  const flame = spy('speedscope', 'worker.speedscope.json')
  const result = await steadyPipeline(stack, rate * seconds, rate)
  await flame.exited
  console.log(JSON.stringify(result))
} finally {
  await stack.stop()
}
