import { describe, expect, test } from 'bun:test'
import { generateSigningKeys } from '../../src/auth/keys'
import { parseAuthChange, SessionCache, type SessionFacts } from '../../src/auth/session-cache'
import { type AccessClaims, issueAccessToken } from '../../src/auth/tokens'
import { stillCurrent, VerifiedTokens } from '../../src/auth/verified-tokens'

const NOW = 1_800_000_000_000
const claims = (over: Partial<AccessClaims> = {}): AccessClaims => ({
  sub: 'u1',
  sid: 's1',
  role: 'learner',
  jti: 'j',
  iat: NOW / 1000 - 10,
  exp: NOW / 1000 + 890,
  ...over,
})
const facts = (over: Partial<SessionFacts> = {}): SessionFacts => ({
  userId: 'u1',
  role: 'learner',
  email: 'a@b.c',
  displayName: 'A',
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: NOW / 1000 + 86_400,
  tokensValidAfter: 0,
  ...over,
})

describe('SessionCache', () => {
  test('a stored session answers; a session message refuses it; a user message drops the user’s sessions', () => {
    const cache = new SessionCache(960_000)
    expect(cache.lookup(claims(), NOW)).toBeUndefined()
    cache.store(cache.epoch, 's1', facts(), NOW)
    expect(cache.lookup(claims(), NOW)).toMatchObject({ role: 'learner' })
    cache.apply({ kind: 'user', id: 'u1' }, NOW)
    expect(cache.lookup(claims(), NOW)).toBeUndefined() // re-read: the role may have changed
    cache.store(cache.epoch, 's1', facts(), NOW)
    cache.apply({ kind: 'sessions', ids: ['s1'] }, NOW)
    expect(cache.lookup(claims(), NOW)).toBe('refused')
    expect(cache.lookup(claims(), NOW + 960_001)).toBeUndefined() // the mark outlives every token it could refuse, then goes
  })

  test('a user cutoff refuses tokens issued before it, not those issued after (same rule as the SQL: cutoff > iat + 1)', () => {
    const cache = new SessionCache(960_000)
    const cutoff = NOW / 1000
    cache.apply({ kind: 'user', id: 'u1', cutoff }, NOW)
    expect(cache.lookup(claims({ iat: cutoff - 2 }), NOW)).toBe('refused')
    expect(cache.lookup(claims({ iat: cutoff - 1 }), NOW)).toBeUndefined()
    expect(cache.lookup(claims({ sub: 'u2', iat: cutoff - 2 }), NOW)).toBeUndefined()
  })

  test('facts read before a change are not stored after it (epoch)', () => {
    const cache = new SessionCache(960_000)
    const epoch = cache.epoch
    cache.apply({ kind: 'user', id: 'u1' }, NOW)
    cache.store(epoch, 's1', facts({ role: 'admin' }), NOW)
    expect(cache.has('s1')).toBe(false)
  })

  test('the facts judge the token: other user, expired session, token before tokens_valid_after; entries age out; size is bounded', () => {
    const cache = new SessionCache(960_000, 2, 60_000)
    cache.store(cache.epoch, 's1', facts(), NOW)
    expect(cache.lookup(claims({ sub: 'u2' }), NOW)).toBe('refused')
    cache.store(cache.epoch, 's2', facts({ expiresAt: NOW / 1000 - 1 }), NOW)
    expect(cache.lookup(claims({ sid: 's2' }), NOW)).toBe('refused')
    cache.store(cache.epoch, 's3', facts({ tokensValidAfter: NOW / 1000 }), NOW)
    expect(cache.lookup(claims({ sid: 's3', iat: NOW / 1000 - 5 }), NOW)).toBe('refused')
    expect(cache.size).toBe(2)
    expect(cache.lookup(claims({ sid: 's3', iat: NOW / 1000 }), NOW + 60_001)).toBeUndefined()
  })

  test('messages are parsed strictly', () => {
    expect(parseAuthChange('{"kind":"sessions","ids":["a","b"]}')).toEqual({ kind: 'sessions', ids: ['a', 'b'] })
    expect(parseAuthChange('{"kind":"user","id":"u","cutoff":12.5}')).toEqual({ kind: 'user', id: 'u', cutoff: 12.5 })
    expect(parseAuthChange('{"kind":"sessions","ids":[1]}')).toBeNull()
    expect(parseAuthChange('not json')).toBeNull()
  })
})

describe('VerifiedTokens', () => {
  const settings = { issuer: 'i', audience: 'a', ttlSeconds: 900 }

  test('one verification per distinct token; a bad token is never cached; bounded LRU', async () => {
    const keys = await generateSigningKeys()
    const cache = new VerifiedTokens(keys, settings, 2)
    const tokens = await Promise.all(
      ['s1', 's2', 's3'].map((sessionId) => issueAccessToken(keys, settings, { userId: 'u', sessionId, role: 'learner' })),
    )
    expect(await cache.verify(tokens[0]!)).toMatchObject({ sid: 's1' })
    expect(await cache.verify(`${tokens[0]!}x`)).toBeNull()
    expect(cache.size).toBe(1)
    for (const t of tokens) await cache.verify(t)
    expect(cache.size).toBe(2)
    // Cached claims still expire: an hour later the same token is refused without a new verification.
    expect(await cache.verify(tokens[2]!, Date.now() / 1000 + 3_600)).toBeNull()
  })

  test('peek answers without waiting: undefined before a verification, the claims after, null once expired', async () => {
    const keys = await generateSigningKeys()
    const cache = new VerifiedTokens(keys, settings)
    const token = await issueAccessToken(keys, settings, { userId: 'u', sessionId: 's', role: 'learner' })
    expect(cache.peek(token)).toBeUndefined()
    expect(cache.peek(`${token}x`)).toBeUndefined()
    await cache.verify(token)
    await cache.verify(`${token}x`) // refused, so never cached
    expect(cache.peek(token)).toMatchObject({ sub: 'u', sid: 's', role: 'learner' })
    expect(cache.peek(`${token}x`)).toBeUndefined()
    expect(cache.peek(token, Date.now() / 1000 + 3_600)).toBeNull()
  })

  test('stillCurrent applies the verifier’s expiry and maximum age with the leeway', () => {
    const c = claims()
    expect(stillCurrent(c, settings, c.exp + 30)).toBe(true)
    expect(stillCurrent(c, settings, c.exp + 31)).toBe(false)
  })
})
