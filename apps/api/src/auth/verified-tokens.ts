import type { SigningKeys } from './keys'
import { type AccessClaims, CLOCK_LEEWAY_SECONDS, type TokenSettings, verifyAccessToken } from './tokens'

/**
 * Pure: whether claims verified earlier still pass the time checks of {@link verifyAccessToken}
 * at `nowSeconds` (expiry and maximum age, both with the clock leeway). The signature, key,
 * algorithm, issuer, audience and lifetime cannot change, so they need no second look.
 */
export const stillCurrent = (claims: AccessClaims, settings: TokenSettings, nowSeconds: number): boolean =>
  nowSeconds <= claims.exp + CLOCK_LEEWAY_SECONDS && nowSeconds - claims.iat <= settings.ttlSeconds + CLOCK_LEEWAY_SECONDS

/**
 * Verified access-token claims, so a client's token costs one EdDSA verification, not one per request
 * (≈ 100 µs of CPU each). Keyed by the whole token (a few hundred bytes; hashing it first cost
 * ≈ 3 % of a cached request's CPU and saves no memory worth having), bounded to `maxEntries` with
 * least-recently-used eviction, each entry usable until its token expires. Failed verifications are
 * never cached, so only tokens this server signed take room.
 * Revocation is not decided here (session-cache.ts).
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, AccessClaims>()

  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
    readonly maxEntries = 10_000,
  ) {}

  get size(): number {
    return this.entries.size
  }

  /**
   * Without waiting: the claims of a token verified earlier and still current, null for one that
   * was verified but is no longer current, undefined for a token not seen yet (`verify` it).
   */
  peek(token: string, nowSeconds = Date.now() / 1000): AccessClaims | null | undefined {
    const cached = this.entries.get(token)
    if (!cached) return undefined
    return stillCurrent(cached, this.settings, nowSeconds) ? cached : null
  }

  async verify(token: string, nowSeconds = Date.now() / 1000): Promise<AccessClaims | null> {
    const key = token
    const cached = this.entries.get(key)
    if (cached) {
      this.entries.delete(key)
      if (!stillCurrent(cached, this.settings, nowSeconds)) return null
      this.entries.set(key, cached) // most recently used goes last
      return cached
    }
    const claims = await verifyAccessToken(this.keys, this.settings, token)
    if (!claims) return null
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, claims)
    return claims
  }
}

const caches = new WeakMap<SigningKeys, Map<string, VerifiedTokens>>()

/** The cache of this process for these keys and settings (the guard and the read limit share it). */
export function verifiedTokens(keys: SigningKeys, settings: TokenSettings): VerifiedTokens {
  let bySettings = caches.get(keys)
  if (!bySettings) caches.set(keys, (bySettings = new Map()))
  const id = `${settings.issuer}\n${settings.audience}\n${settings.ttlSeconds}`
  let cache = bySettings.get(id)
  if (!cache) bySettings.set(id, (cache = new VerifiedTokens(keys, settings)))
  return cache
}
