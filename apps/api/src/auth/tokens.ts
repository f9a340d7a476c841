import { createHash, randomBytes } from 'node:crypto'
import { errors, jwtVerify, SignJWT, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose'
import type { UserRole } from '@vstep/contracts'
import { ACCESS_TOKEN_ALG, type SigningKeys } from './keys'

export const ACCESS_TOKEN_TYPE = 'at+jwt'
export const CLOCK_LEEWAY_SECONDS = 30

export type AccessClaims = { sub: string; sid: string; role: UserRole; jti: string; iat: number; exp: number }
export type TokenSettings = { issuer: string; audience: string; ttlSeconds: number }

export async function issueAccessToken(
  keys: SigningKeys,
  settings: TokenSettings,
  subject: { userId: string; sessionId: string; role: UserRole },
  now = Math.floor(Date.now() / 1000),
): Promise<string> {
  return new SignJWT({ sid: subject.sessionId, role: subject.role })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: keys.current.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(subject.userId)
    .setIssuedAt(now)
    .setExpirationTime(now + settings.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(keys.current.privateKey)
}

/** A token's lifetime (`exp − iat`) may not exceed the configured TTL (a config change can only shorten it). */
export const hasAcceptableLifetime = (iat: number, exp: number, ttlSeconds: number): boolean => exp - iat <= ttlSeconds

/**
 * Verifies an access token: the algorithm is pinned (no `none`, no HS256 with a public key), the key
 * is chosen by `kid` among the accepted ones, and typ/iss/aud/exp/iat/jti/sid/sub are required. `iat`
 * may not be in the future (beyond CLOCK_LEEWAY_SECONDS) and `exp − iat` may not exceed the TTL.
 * Returns null for any invalid token; callers answer 401.
 */
export async function verifyAccessToken(keys: SigningKeys, settings: TokenSettings, token: string): Promise<AccessClaims | null> {
  const keyFor = (header: JWTHeaderParameters, _token: FlattenedJWSInput) => {
    const key = keys.accepted.find((k) => k.kid === header.kid)
    if (!key) throw new errors.JWKSNoMatchingKey()
    return key.publicKey
  }
  try {
    const { payload } = await jwtVerify(token, keyFor, {
      algorithms: [ACCESS_TOKEN_ALG],
      issuer: settings.issuer,
      audience: settings.audience,
      typ: ACCESS_TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'jti', 'sid', 'sub'],
      clockTolerance: CLOCK_LEEWAY_SECONDS,
      // Refuses an `iat` in the future (beyond the leeway) or older than one token lifetime.
      maxTokenAge: settings.ttlSeconds,
    })
    if (typeof payload.sid !== 'string' || typeof payload.role !== 'string') return null
    // We never sign a token living longer than the configured TTL; one that does was not minted here.
    if (!hasAcceptableLifetime(payload.iat!, payload.exp!, settings.ttlSeconds)) return null
    return payload as unknown as AccessClaims
  } catch {
    return null
  }
}

/** An opaque refresh token: 256 random bits; only its SHA-256 is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashRefreshToken(token) }
}

export const hashRefreshToken = (token: string): string => createHash('sha256').update(token).digest('hex')
