import { expect, test } from 'bun:test'
import { gracefulShutdown } from '../../src/platform/shutdown'

/** Records the order of the steps; `drain` decides when the listener's in-flight requests finish. */
function steps(drain: Promise<void>, graceMs: number, drainDelayMs = 0) {
  const calls: string[] = []
  return {
    calls,
    run: () =>
      gracefulShutdown({
        startDraining: () => calls.push('draining'),
        drainDelayMs,
        stopBackground: () => calls.push('background'),
        stopServer: async (closeActive) => {
          calls.push(closeActive ? 'cut' : 'stop-listening')
          if (!closeActive) await drain
        },
        endStreams: () => {
          calls.push('end-streams')
          return 3
        },
        closePools: async () => {
          calls.push('pools')
        },
        graceMs,
      }),
  }
}

test('stops listening before ending streams, waits for in-flight requests, then closes the pools', async () => {
  let finish!: () => void
  const s = steps(new Promise<void>((r) => (finish = r)), 60_000)
  const done = s.run()
  await Promise.resolve()
  expect(s.calls).toEqual(['draining', 'background', 'stop-listening', 'end-streams'])
  finish()
  expect(await done).toMatchObject({ streamsEnded: 3, drained: true })
  expect(s.calls).toEqual(['draining', 'background', 'stop-listening', 'end-streams', 'pools'])
})

test('requests still running after the grace period are cut, and the pools still close', async () => {
  const s = steps(new Promise<void>(() => {}), 50)
  expect(await s.run()).toMatchObject({ drained: false })
  expect(s.calls).toEqual(['draining', 'background', 'stop-listening', 'end-streams', 'cut', 'pools'])
})

test('with a drain delay, the process is draining and still listening until the delay is over', async () => {
  const s = steps(Promise.resolve(), 60_000, 200)
  const done = s.run()
  await Promise.resolve()
  expect(s.calls).toEqual(['draining'])
  expect(await done).toMatchObject({ drained: true })
  expect(s.calls).toEqual(['draining', 'background', 'stop-listening', 'end-streams', 'pools'])
})
