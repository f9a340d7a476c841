import { describe, expect, test } from 'bun:test'
import { OwnerShareExceededError, SaturatedError, Semaphore } from '../../src/platform/concurrency'

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

  test('one owner holds at most `ownerLimit` tasks (running and waiting); only that owner is refused', async () => {
    const sem = new Semaphore(1, 10, 1, 2)
    const gate = deferred()
    const a1 = sem.run(() => gate.promise, ['ip:a'])
    const a2 = sem.run(() => gate.promise, ['ip:a'])
    expect([sem.inFlight, sem.queued, sem.heldBy('ip:a')]).toEqual([1, 1, 2])
    const refused = await sem.run(async () => 'never', ['ip:a']).catch((e) => e)
    expect(refused).toBeInstanceOf(OwnerShareExceededError)
    expect((refused as OwnerShareExceededError).owner).toBe('ip:a')
    // A task with two owners is refused when either is at its share.
    expect(await sem.run(async () => 'never', ['user:b', 'ip:a']).catch((e) => e)).toBeInstanceOf(OwnerShareExceededError)
    const b = sem.run(async () => 'b', ['user:b'])
    gate.resolve()
    expect(await Promise.all([a1, a2, b])).toEqual([undefined, undefined, 'b'])
    expect([sem.inFlight, sem.queued, sem.heldBy('ip:a'), sem.heldBy('user:b')]).toEqual([0, 0, 0, 0])
  })

  test('freed slots go round-robin over owners: a busy owner’s backlog does not delay another owner’s single task', async () => {
    const sem = new Semaphore(1, 10)
    const started: string[] = []
    const first = deferred()
    const running = sem.run(() => first.promise, ['a'])
    const task = (name: string) => async () => {
      started.push(name)
    }
    const queued = [
      sem.run(task('a2'), ['a']),
      sem.run(task('a3'), ['a']),
      sem.run(task('a4'), ['a']),
      sem.run(task('b1'), ['b']),
      sem.run(task('anon')),
    ]
    expect(sem.queued).toBe(5)
    first.resolve()
    await Promise.all([running, ...queued])
    expect(started).toEqual(['a2', 'b1', 'anon', 'a3', 'a4'])
  })
})
