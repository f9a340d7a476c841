import { describe, expect, test } from 'bun:test'
import { join, resolve } from 'node:path'
import { exportPKCS8, generateKeyPair } from 'jose'
import { loadConfig } from '../../src/config'

/**
 * Finding 5: `docker compose up` could not start the API unless BOOTSTRAP_ADMIN_EMAIL was set,
 * because compose passes `${BOOTSTRAP_ADMIN_EMAIL:-}` as an empty string. These tests read the real
 * docker-compose.yml, interpolate it like compose does from a .env, and load the API's config.
 */
const REPO_ROOT = resolve(import.meta.dir, '../../../..')
type Compose = { services: Record<string, { environment?: Record<string, string | number | boolean> }> }
const compose = Bun.YAML.parse(await Bun.file(join(REPO_ROOT, 'docker-compose.yml')).text()) as Compose

/** Compose interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (_, name: string, colon: string, op: string | undefined, arg: string) => {
      const set = name in env && (colon !== ':' || env[name] !== '')
      if (set) return env[name]!
      if (op === '-') return arg
      if (op === '?') throw new Error(`compose: ${name}: ${arg}`)
      return ''
    },
  )
}

/** The environment compose gives one service's container. */
const serviceEnv = (service: string, env: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(compose.services[service]?.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]))

const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
/** The smallest .env the README asks for. */
const dotEnv = { POSTGRES_PASSWORD: 'a-long-random-password', JWT_PRIVATE_KEY: await exportPKCS8(privateKey) }

describe('the API starts with the environment docker-compose.yml gives it', () => {
  test('with only the required secrets in .env, the config loads and unset optional variables take their defaults', () => {
    const env = serviceEnv('api', dotEnv)
    expect(env.BOOTSTRAP_ADMIN_EMAIL).toBe('') // what compose really passes
    const config = loadConfig(env)
    expect(config.NODE_ENV).toBe('production')
    expect(config.BOOTSTRAP_ADMIN_EMAIL).toBeUndefined()
    expect(config.DATABASE_URL).toBe('postgres://vstep:a-long-random-password@postgres:5432/vstep')
  })

  test('optional variables set in .env reach the config', () => {
    const config = loadConfig(serviceEnv('api', { ...dotEnv, BOOTSTRAP_ADMIN_EMAIL: 'admin@example.test' }))
    expect(config.BOOTSTRAP_ADMIN_EMAIL).toBe('admin@example.test')
  })

  test('an empty variable means unset: an optional one takes its default, a required one is reported missing', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/db', PORT: '', BOOTSTRAP_ADMIN_EMAIL: '', JWT_KEY_ID: '' })
    expect(config.PORT).toBe(3000)
    expect(config.JWT_KEY_ID).toBeUndefined()
    expect(() => loadConfig({ DATABASE_URL: '' })).toThrow(/DATABASE_URL/)
    // A value that is present but wrong is still refused.
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/db', BOOTSTRAP_ADMIN_EMAIL: 'not-an-email' })).toThrow(
      /BOOTSTRAP_ADMIN_EMAIL/,
    )
  })

  test('POSTGRES_PASSWORD has no default: without it compose refuses to start the database or the API', () => {
    const { POSTGRES_PASSWORD: _omitted, ...withoutPassword } = dotEnv
    expect(() => serviceEnv('postgres', withoutPassword)).toThrow(/POSTGRES_PASSWORD/)
    expect(() => serviceEnv('api', withoutPassword)).toThrow(/POSTGRES_PASSWORD/)
    expect(() => serviceEnv('worker', withoutPassword)).toThrow(/POSTGRES_PASSWORD/)
    expect(() => serviceEnv('postgres', { ...withoutPassword, POSTGRES_PASSWORD: '' })).toThrow(/POSTGRES_PASSWORD/)
  })
})
