/**
 * The fake OpenAI-compatible provider (workers/grader-py/tests/fake_provider.py) as a real process, for
 * the end-to-end tests and the fault suite: it answers `defaultBehaviour` (`ok`, `slow:3`, `500`…) until
 * told otherwise through `${url}/_control`.
 */
import { join } from 'node:path'
import { startService, type Service, WORKER_DIR, waitFor } from './processes'
import { freePort } from './redis-server'

export type FakeProvider = {
  /** Its base URL (the worker's OPENAI_BASE_URL is `${url}/v1`). */
  url: string
  /** Waits until it answers; other processes may be started before, to come up meanwhile. */
  ready: () => Promise<void>
  /** A worker's env to grade with it (GRADER_PROVIDER=openai). */
  workerEnv: Record<string, string>
}

/**
 * Starts it on a free port and adds it to `services`. `python`: through `uv run` (the default), or the
 * worker's virtualenv Python itself (the fault suite, which runs no `uv` process at all).
 */
export function startFakeProvider(services: Service[], options: { defaultBehaviour: string; python?: 'uv' | 'venv' }): FakeProvider {
  const port = freePort()
  const url = `http://127.0.0.1:${port}`
  const script = ['tests/fake_provider.py', '--port', String(port), '--default', options.defaultBehaviour]
  services.push(
    options.python === 'venv'
      ? startService('fake-provider', [join(WORKER_DIR, '.venv/bin/python'), ...script], { cwd: WORKER_DIR, env: {} })
      : startService('fake-provider', ['uv', 'run', '--frozen', 'python', ...script], {
          cwd: WORKER_DIR,
          env: { UV_PYTHON_DOWNLOADS: 'never' },
        }),
  )
  return {
    url,
    ready: async () => {
      await waitFor(
        'the fake provider',
        async () => ((await fetch(`${url}/_control/calls`).catch(() => null))?.ok ? true : undefined),
        30_000,
        services,
      )
    },
    workerEnv: { GRADER_PROVIDER: 'openai', OPENAI_BASE_URL: `${url}/v1`, OPENAI_API_KEY: 'test-key', GRADER_MODEL: 'fake-model' },
  }
}
