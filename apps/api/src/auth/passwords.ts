import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import type { Config } from '../config'
import { OwnerShareExceededError, Semaphore, SaturatedError, saturatedProblem, shareExceededProblem } from '../platform/concurrency'
import { invalidField } from '../platform/problem'

export type PasswordCost = { memoryKib: number; timeCost: number }

export const passwordCostOf = (config: Config): PasswordCost => ({ memoryKib: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST })

/**
 * Argon2 is memory- and CPU-hungry (64 MiB per hash by default), so every hash and verify goes
 * through a semaphore: at most ARGON2_CONCURRENCY at once (default 2 × cores), ARGON2_QUEUE more
 * may wait, and anything beyond gets 503 + Retry-After instead of exhausting memory or starving
 * other routes. The gate is shared fairly: each owner (a client address, a signed-in user) may
 * hold ARGON2_PER_CLIENT computations at once, running and waiting together, and gets 429 beyond
 * that; waiting ones are served round-robin between owners, so one client hammering a password
 * route cannot fill the gate for everybody else. One gate per configuration object (one per app
 * instance).
 */
const gates = new WeakMap<Config, Semaphore>()
export function hashGate(config: Config): Semaphore {
  let gate = gates.get(config)
  if (!gate) {
    const limit = config.ARGON2_CONCURRENCY > 0 ? config.ARGON2_CONCURRENCY : 2 * availableParallelism()
    gate = new Semaphore(limit, config.ARGON2_QUEUE, 1, config.ARGON2_PER_CLIENT)
    gates.set(config, gate)
  }
  return gate
}

/** Who a hash is computed for, as gate owner keys: `ip:…`, `user:…`, `account:…`. */
export type HashOwners = readonly string[]

async function gated<T>(config: Config, owners: HashOwners, fn: () => Promise<T>): Promise<T> {
  try {
    return await hashGate(config).run(fn, owners)
  } catch (error) {
    if (error instanceof SaturatedError) throw saturatedProblem('password hashing', error.retryAfterSeconds)
    if (error instanceof OwnerShareExceededError) throw shareExceededProblem('password', error.retryAfterSeconds)
    throw error
  }
}

export const hashPassword = (config: Config, password: string, owners: HashOwners = []): Promise<string> => {
  const cost = passwordCostOf(config)
  return gated(config, owners, () =>
    Bun.password.hash(password, { algorithm: 'argon2id', memoryCost: cost.memoryKib, timeCost: cost.timeCost }),
  )
}

/** False for a wrong password and for a malformed stored hash (Bun throws on those). */
export function verifyPassword(config: Config, password: string, hash: string, owners: HashOwners = []): Promise<boolean> {
  return gated(config, owners, async () => {
    try {
      return await Bun.password.verify(password, hash)
    } catch {
      return false
    }
  })
}

/**
 * A hash of a random password with the current cost, verified for unknown emails so that they cost
 * exactly as much as a wrong password (no enumeration by timing). Cached per cost setting.
 */
const dummyHashes = new Map<string, Promise<string>>()
export function dummyHash(config: Config): Promise<string> {
  const cost = passwordCostOf(config)
  const key = `${cost.memoryKib}:${cost.timeCost}`
  let hash = dummyHashes.get(key)
  if (!hash) {
    hash = Bun.password.hash(crypto.randomUUID(), { algorithm: 'argon2id', memoryCost: cost.memoryKib, timeCost: cost.timeCost })
    dummyHashes.set(key, hash)
  }
  return hash
}

/** Emails compare case-insensitively, without surrounding spaces, in Unicode NFKC form. */
export const normaliseEmail = (email: string): string => email.normalize('NFKC').trim().toLowerCase()

export const PASSWORD_MIN = 8
export const PASSWORD_MAX = 128

let common: Set<string> | null = null
/** The shipped list of frequently used passwords (common-passwords.txt next to this file). */
export function commonPasswords(): Set<string> {
  if (!common) {
    const text = readFileSync(join(import.meta.dir, 'common-passwords.txt'), 'utf8')
    common = new Set(
      text
        .split('\n')
        .map((l) => l.trim().toLowerCase())
        .filter((l) => l && !l.startsWith('#')),
    )
  }
  return common
}

/** Null when acceptable, otherwise why not. Length counts Unicode code points. */
export function passwordProblem(password: string, context: { email?: string } = {}): string | null {
  const length = [...password].length
  if (length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`
  if (length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`
  const lowered = password.toLowerCase()
  if (commonPasswords().has(lowered)) return 'is too common; choose a less predictable password'
  if (context.email && lowered === normaliseEmail(context.email)) return 'must not be your email address'
  return null
}

export function assertAcceptablePassword(field: string, password: string, context: { email?: string } = {}): void {
  const problem = passwordProblem(password, context)
  if (problem) throw invalidField(field, problem)
}
