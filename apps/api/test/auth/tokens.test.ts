import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createPublicKey, createHmac, createPrivateKey } from 'node:crypto'
import { exportPKCS8, exportSPKI, SignJWT, UnsecuredJWT } from 'jose'
import { generateSigningKeys } from '../../src/auth/keys'
import { issueAccessToken, verifyAccessToken } from '../../src/auth/tokens'
import { createTestContext, type TestContext } from '../support/context'
import { me } from './support'

let ctx: TestContext
let valid: string
let claims: { sub: string; sid: string; role: string }
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const parts = (t: string) => t.split('.') as [string, string, string]
const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString()) as Record<string, unknown>

beforeAll(async () => {
  ctx = await createTestContext()
  valid = (await ctx.signUp()).token
  const payload = decode(parts(valid)[1])
  claims = { sub: payload.sub as string, sid: payload.sid as string, role: payload.role as string }
})
afterAll(() => ctx.close())

const signWith = (header: Record<string, unknown>, payload: Record<string, unknown>) =>
  new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: ctx.deps.keys.current.kid, ...header })
    .sign(ctx.deps.keys.current.privateKey)
const basePayload = () => {
  const now = Math.floor(Date.now() / 1000)
  return {
    ...claims,
    iss: ctx.deps.config.JWT_ISSUER,
    aud: ctx.deps.config.JWT_AUDIENCE,
    iat: now,
    exp: now + 600,
    jti: crypto.randomUUID(),
  }
}

describe('access tokens the API must refuse with 401', () => {
  test('the untouched token is accepted (control)', async () => {
    expect((await me(ctx, valid)).status).toBe(200)
    expect((await me(ctx, await signWith({}, basePayload()))).status).toBe(200)
  })

  test('tampered payload (role raised to admin, signature kept)', async () => {
    const [h, p, s] = parts(valid)
    const forged = `${h}.${b64({ ...decode(p), role: 'admin' })}.${s}`
    expect((await me(ctx, forged)).status).toBe(401)
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`
    expect((await me(ctx, flipped)).status).toBe(401)
  })

  test('expired (beyond the 30 s leeway), but accepted within the leeway', async () => {
    const now = Math.floor(Date.now() / 1000)
    expect((await me(ctx, await signWith({}, { ...basePayload(), iat: now - 1000, exp: now - 31 }))).status).toBe(401)
    // (iat stays recent: the guard also refuses tokens issued before the account's tokensValidAfter.)
    expect((await me(ctx, await signWith({}, { ...basePayload(), iat: now, exp: now - 10 }))).status).toBe(200)
  })

  test('wrong audience, wrong issuer, wrong typ, missing jti or sid', async () => {
    const p = basePayload()
    expect((await me(ctx, await signWith({}, { ...p, aud: 'another-api' }))).status).toBe(401)
    expect((await me(ctx, await signWith({}, { ...p, iss: 'someone-else' }))).status).toBe(401)
    expect((await me(ctx, await signWith({ typ: 'JWT' }, p))).status).toBe(401)
    const { jti: _j, ...noJti } = p
    expect((await me(ctx, await signWith({}, noJti))).status).toBe(401)
    const { sid: _s, ...noSid } = p
    expect((await me(ctx, await signWith({}, noSid))).status).toBe(401)
  })

  test('alg: none', async () => {
    const unsecured = new UnsecuredJWT(basePayload()).encode()
    expect((await me(ctx, unsecured)).status).toBe(401)
    const withKid = `${b64({ alg: 'none', typ: 'at+jwt', kid: ctx.deps.keys.current.kid })}.${b64(basePayload())}.`
    expect((await me(ctx, withKid)).status).toBe(401)
  })

  test('HS256 signed with the public key as the HMAC secret', async () => {
    const spki = await exportSPKI(ctx.deps.keys.current.publicKey)
    const header = b64({ alg: 'HS256', typ: 'at+jwt', kid: ctx.deps.keys.current.kid })
    const body = b64(basePayload())
    for (const secret of [spki, createPublicKey(spki).export({ format: 'der', type: 'spki' })]) {
      const sig = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url')
      expect((await me(ctx, `${header}.${body}.${sig}`)).status).toBe(401)
    }
  })

  test('unknown kid, and a valid EdDSA signature from a key that is not ours', async () => {
    expect((await me(ctx, await signWith({ kid: 'not-a-known-kid' }, basePayload()))).status).toBe(401)
    const stranger = await generateSigningKeys()
    const foreign = await new SignJWT(basePayload())
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: ctx.deps.keys.current.kid })
      .sign(stranger.current.privateKey)
    expect((await me(ctx, foreign)).status).toBe(401)
  })

  test('garbage, a non-Bearer scheme and no token', async () => {
    expect((await me(ctx, 'not.a.jwt')).status).toBe(401)
    expect((await ctx.call('GET', '/v1/me', { headers: { authorization: `Basic ${valid}` } })).status).toBe(401)
    const none = await ctx.call('GET', '/v1/me')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer')
  })
})

describe('token rules (unit)', () => {
  test('issued tokens carry kid, typ, iss, aud, exp ≤ 15 min, iat, jti, sid', async () => {
    const keys = await generateSigningKeys()
    const token = await issueAccessToken(
      keys,
      { issuer: 'i', audience: 'a', ttlSeconds: 900 },
      { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role: 'learner' },
    )
    const [h, p] = parts(token)
    expect(decode(h)).toEqual({ alg: 'EdDSA', kid: keys.current.kid, typ: 'at+jwt' })
    const payload = decode(p)
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'role', 'sid', 'sub'])
    expect((payload.exp as number) - (payload.iat as number)).toBeLessThanOrEqual(900)
  })

  test('key rotation: a token signed by the previous key verifies while that key is still accepted', async () => {
    const previous = await generateSigningKeys()
    const next = await generateSigningKeys()
    const s = { issuer: 'i', audience: 'a', ttlSeconds: 900 }
    const old = await issueAccessToken(previous, s, { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role: 'learner' })
    const both = { current: next.current, accepted: [next.current, previous.current] }
    expect(await verifyAccessToken(both, s, old)).not.toBeNull()
    expect(await verifyAccessToken(next, s, old)).toBeNull()
    // PEM round-trip of the private key keeps the kid stable for configuration-provided keys.
    expect((await exportPKCS8(previous.current.privateKey)).startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true)
    expect(createPrivateKey(await exportPKCS8(previous.current.privateKey)).asymmetricKeyType).toBe('ed25519')
  })
})
