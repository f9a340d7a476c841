import type { Config } from '../config'
import type { AppDeps } from '../deps'
import {
  accountKey,
  quotaExceededProblem,
  type RateCharge,
  type RateLimiter,
  rateLimitHeaders,
  type RatePolicy,
} from '../platform/rate-limit'
import { type HashOwners, verifyPassword } from './passwords'

/**
 * Every route that checks a password (login, DELETE /v1/me, POST /v1/auth/password) draws from the
 * same budgets, because they guess the same secret. Per RATE_LIMIT_WINDOW_SECONDS:
 *
 * - `password-pair`: failures per (account, client address): RATE_LIMIT_LOGIN (5). This is what
 *   stops a guesser; it locks out only the guesser's own address, never the owner's.
 * - `password-account`: failures per account from all addresses: RATE_LIMIT_LOGIN_ACCOUNT (50), a
 *   ceiling against guessing spread over many addresses, high enough that one attacker address
 *   cannot lock the owner out.
 * - `password-ip-failures`: failures per address over all accounts: RATE_LIMIT_LOGIN_IP_FAILURES (50),
 *   against credential stuffing from one address.
 * - `password-ip`: every check per address, successes too: RATE_LIMIT_LOGIN_IP (300), which bounds
 *   the hashing one address can ask for and is sized for many users behind one NAT.
 *
 * "Failures" are counted by taking the unit up front and giving it back when the password turns out
 * right: concurrent guesses therefore cannot all pass the check before the first one fails.
 */
export type PasswordAttemptPolicies = { pair: RatePolicy; account: RatePolicy; ipFailures: RatePolicy; ip: RatePolicy }

export const passwordAttemptPolicies = (config: Config): PasswordAttemptPolicies => {
  const windowSeconds = config.RATE_LIMIT_WINDOW_SECONDS
  return {
    pair: { name: 'password-pair', limit: config.RATE_LIMIT_LOGIN, windowSeconds },
    account: { name: 'password-account', limit: config.RATE_LIMIT_LOGIN_ACCOUNT, windowSeconds },
    ipFailures: { name: 'password-ip-failures', limit: config.RATE_LIMIT_LOGIN_IP_FAILURES, windowSeconds },
    ip: { name: 'password-ip', limit: config.RATE_LIMIT_LOGIN_IP, windowSeconds },
  }
}

/** Whose password is checked (the normalised email) and from where; `userId` when signed in. */
export type PasswordAttemptClient = { account: string; ip?: string | undefined; userId?: string | undefined }

/**
 * The charges of one check: `failures` are given back on success, `always` are not. Without a known
 * address (an in-process call) the pair falls back to the account alone and the address keys are
 * skipped.
 */
export function attemptCharges(
  policies: PasswordAttemptPolicies,
  client: PasswordAttemptClient,
): { failures: RateCharge[]; always: RateCharge[] } {
  const failures: RateCharge[] = [
    { policy: policies.pair, key: accountKey(`email:${client.account}|ip:${client.ip ?? '-'}`) },
    { policy: policies.account, key: accountKey(`email:${client.account}`) },
  ]
  const always: RateCharge[] = []
  if (client.ip) {
    failures.push({ policy: policies.ipFailures, key: `ip:${client.ip}` })
    always.push({ policy: policies.ip, key: `ip:${client.ip}` })
  }
  return { failures, always }
}

/**
 * Owners of the hashing-gate share: the signed-in user and the address, or for an anonymous login
 * the address (not the typed email: a guesser could vary it, and a victim's email must not let
 * an attacker use up the victim's share).
 */
export function hashOwnersOf(client: PasswordAttemptClient): HashOwners {
  const owners: string[] = []
  if (client.userId) owners.push(`user:${client.userId}`)
  if (client.ip) owners.push(`ip:${client.ip}`)
  if (owners.length === 0) owners.push(`account:${client.account}`)
  return owners
}

/** Checks a password against a stored hash; counts as a failure unless it returns true. */
export type PasswordVerifier = (password: string, hash: string) => Promise<boolean>

export class PasswordAttempts {
  private readonly policies: PasswordAttemptPolicies
  constructor(
    private readonly deps: Pick<AppDeps, 'config'>,
    private readonly limiter: RateLimiter,
  ) {
    this.policies = passwordAttemptPolicies(deps.config)
  }

  /**
   * Takes this attempt's units (429 with Retry-After when any budget is spent), sets the RateLimit
   * headers, and returns the verifier to use for the check: it hashes under the client's share of the
   * gate and gives the failure units back when the password is right or no check could be made.
   */
  async begin(client: PasswordAttemptClient, set: { headers: Record<string, unknown> }): Promise<PasswordVerifier> {
    const { failures, always } = attemptCharges(this.policies, client)
    const charges = [...failures, ...always]
    const decision = await this.limiter.consumeAll(charges)
    const headers = rateLimitHeaders(
      charges.map((c) => c.policy),
      decision.states,
    )
    Object.assign(set.headers, headers)
    if (!decision.allowed) {
      // On a refusal, exactly the spent budgets report 0 remaining.
      const spent = charges.filter((_, i) => decision.states[i]!.remaining <= 0).map((c) => c.policy.name)
      throw quotaExceededProblem(`too many password attempts (${spent.join(', ')}); retry later`, headers, decision.retryAfterMs)
    }
    const owners = hashOwnersOf(client)
    return async (password, hash) => {
      let ok = false
      let checked = false
      try {
        ok = await verifyPassword(this.deps.config, password, hash, owners)
        checked = true
        return ok
      } finally {
        // A right password, or a check refused by the hashing gate, was no guess: give the units back.
        if (ok || !checked) await this.limiter.refund(failures, decision.source)
      }
    }
  }
}
