import { describe, expect, test } from 'bun:test'
import { SaturatedError, Semaphore } from '../../src/platform/concurrency'

const deferred = () => {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('Semaphore', () => {
  test('runs at most `limit` at once, queues up to `queueLimit`, rejects the rest at once', async () => {
    const sem = new Semaphore(2, 1, 3)
    const gates = [deferred(), deferred(), deferred()]
    let maxRunning = 0
    let running = 0
    const task = (i: number) => () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      return gates[i]!.promise.then(() => {
        running--
        return i
      })
    }
    const a = sem.run(task(0))
    const b = sem.run(task(1))
    const c = sem.run(task(2))
    expect([sem.inFlight, sem.queued]).toEqual([2, 1])
    const rejected = await sem.run(task(0)).catch((e) => e)
    expect(rejected).toBeInstanceOf(SaturatedError)
    expect((rejected as SaturatedError).retryAfterSeconds).toBe(3)
    gates[0]!.resolve()
    expect(await a).toBe(0)
    gates[1]!.resolve()
    gates[2]!.resolve()
    expect(await Promise.all([b, c])).toEqual([1, 2])
    expect(maxRunning).toBe(2)
    expect([sem.inFlight, sem.queued]).toEqual([0, 0])
  })

  test('a failing task frees its slot', async () => {
    const sem = new Semaphore(1, 0)
    await expect(sem.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await sem.run(async () => 'ok')).toBe('ok')
  })
})
