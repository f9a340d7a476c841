import { describe, expect, test } from 'bun:test'
import { commonPasswords, normaliseEmail, passwordProblem } from '../../src/auth/passwords'
import { openChild, sealChild } from '../../src/auth/refresh'
import { hashRefreshToken, newRefreshToken } from '../../src/auth/tokens'
import { readCookie, refreshCookie } from '../../src/auth/cookies'
import { cookieSecure, loadConfig } from '../../src/config'

describe('password rules', () => {
  test('length 8–128 code points, common passwords and the email itself refused', () => {
    expect(passwordProblem('short')).toContain('at least 8')
    expect(passwordProblem('a'.repeat(129))).toContain('at most 128')
    expect(passwordProblem('ă'.repeat(8))).toBeNull() // 8 code points, 16 bytes
    expect(passwordProblem('PassWord123')).toContain('common')
    expect(passwordProblem('me@example.test', { email: 'Me@Example.test' })).toContain('email')
    expect(passwordProblem('correct horse battery staple')).toBeNull()
    expect(commonPasswords().size).toBeGreaterThan(250)
  })
  test('emails are normalised', () => {
    expect(normaliseEmail('  Ann@Example.COM ')).toBe('ann@example.com')
    expect(normaliseEmail('ａｎｎ@example.com')).toBe('ann@example.com') // full-width → NFKC
  })
})

describe('refresh tokens', () => {
  test('256 random bits, stored as SHA-256 only', () => {
    const { token, hash } = newRefreshToken()
    expect(Buffer.from(token, 'base64url')).toHaveLength(32)
    expect(hash).toBe(hashRefreshToken(token))
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(newRefreshToken().token).not.toBe(token)
  })
  test('the sealed child opens only with its parent token, and not when tampered with', () => {
    const parent = newRefreshToken().token
    const child = newRefreshToken().token
    const sealed = sealChild(child, parent)
    expect(openChild(sealed, parent)).toBe(child)
    expect(openChild(sealed, newRefreshToken().token)).toBeNull()
    const bytes = Buffer.from(sealed, 'base64url')
    bytes[14] = bytes[14]! ^ 1
    expect(openChild(bytes.toString('base64url'), parent)).toBeNull()
    expect(sealed).not.toContain(child)
  })
})

describe('cookies', () => {
  test('attributes and parsing', () => {
    const dev = refreshCookie({ NODE_ENV: 'development', COOKIE_SECURE: undefined }, 'abc', 60)
    expect(dev).toBe('vstep_refresh=abc; Path=/v1/auth; Max-Age=60; HttpOnly; SameSite=Strict')
    expect(refreshCookie({ NODE_ENV: 'production', COOKIE_SECURE: undefined }, 'abc', 60)).toEndWith('; Secure')
    const req = new Request('http://localhost/', { headers: { cookie: 'a=1; vstep_refresh=tok; b=2' } })
    expect(readCookie(req, 'vstep_refresh')).toBe('tok')
    expect(readCookie(req, 'missing')).toBeUndefined()
  })
})

describe('COOKIE_SECURE', () => {
  const load = (env: Record<string, string>) => loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x', ...env })
  test('on by default in production, off in development and test; the variable overrides either way', () => {
    expect(cookieSecure(load({ NODE_ENV: 'production', JWT_PRIVATE_KEY: 'pem' }))).toBe(true)
    expect(cookieSecure(load({ NODE_ENV: 'development' }))).toBe(false)
    expect(cookieSecure(load({ NODE_ENV: 'test' }))).toBe(false)
    expect(cookieSecure(load({ NODE_ENV: 'production', JWT_PRIVATE_KEY: 'pem', COOKIE_SECURE: 'false' }))).toBe(false)
    expect(cookieSecure(load({ NODE_ENV: 'development', COOKIE_SECURE: 'true' }))).toBe(true)
    expect(cookieSecure(load({ NODE_ENV: 'test', COOKIE_SECURE: '1' }))).toBe(true)
    expect(() => load({ COOKIE_SECURE: 'yes please' })).toThrow(/COOKIE_SECURE/)
  })
})
