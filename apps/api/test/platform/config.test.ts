import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../src/config'

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/vstep' }

describe('configuration', () => {
  test('defaults are complete with only DATABASE_URL', () => {
    const config = loadConfig(base)
    expect(config.PORT).toBe(3000)
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379')
    expect(config.ACCESS_TOKEN_TTL_SECONDS).toBeLessThanOrEqual(900)
  })

  test('each bad variable is named in the message', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', ACCESS_TOKEN_TTL_SECONDS: '3600', REDIS_URL: 'nope' })
    expect(attempt).toThrow(ConfigError)
    try {
      attempt()
    } catch (error) {
      const message = (error as Error).message
      for (const name of ['DATABASE_URL', 'PORT', 'ACCESS_TOKEN_TTL_SECONDS', 'REDIS_URL']) expect(message).toContain(name)
    }
  })

  test('production refuses to start without a signing key', () => {
    expect(() => loadConfig({ ...base, NODE_ENV: 'production' })).toThrow(/JWT_PRIVATE_KEY/)
  })

  test('the API process exits with status 2 and names the variable, before touching anything', () => {
    const run = Bun.spawnSync(['bun', join(import.meta.dir, '../../src/index.ts')], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(run.exitCode).toBe(2)
    expect(run.stderr.toString()).toContain('DATABASE_URL')
  })
})

describe('CORS', () => {
  test('listed origins are trimmed; an allowed origin gets credentials, another gets no CORS headers', async () => {
    const { createTestContext } = await import('../support/context')
    const ctx = await createTestContext({ CORS_ORIGINS: 'http://a.example:5173, http://b.example:5173' })
    try {
      for (const origin of ['http://a.example:5173', 'http://b.example:5173']) {
        const res = await ctx.call('GET', '/healthz', { headers: { origin } })
        expect(res.headers.get('access-control-allow-origin')).toBe(origin)
        expect(res.headers.get('access-control-allow-credentials')).toBe('true')
      }
      const other = await ctx.call('GET', '/healthz', { headers: { origin: 'http://evil.example' } })
      expect(other.headers.get('access-control-allow-origin')).toBeNull()
      const preflight = await ctx.call('OPTIONS', '/v1/submissions', { headers: { origin: 'http://b.example:5173' } })
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get('access-control-allow-headers')).toContain('idempotency-key')
    } finally {
      await ctx.close()
    }
  })
})
