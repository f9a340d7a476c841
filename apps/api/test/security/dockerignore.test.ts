import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { testConfig } from '../support/context'

/**
 * Finding 13: the development signing key could be copied into images, because .dockerignore only
 * excluded the root `.data`. These tests read the real .dockerignore and apply Docker's rules to the
 * places a key can live.
 */
const REPO_ROOT = resolve(import.meta.dir, '../../../..')
const API_DIR = join(REPO_ROOT, 'apps/api')

/** One .dockerignore line as a regular expression over a slash-separated path (Docker's matcher). */
function patternRegex(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!
    if (ch === '*' && pattern[i + 1] === '*') {
      // `**/` is zero or more whole directories; a trailing `**` is anything.
      if (pattern[i + 2] === '/') {
        source += '(?:.*/)?'
        i += 2
      } else {
        source += '.*'
        i += 1
      }
    } else if (ch === '*') source += '[^/]*'
    else if (ch === '?') source += '[^/]'
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

/** Docker's rule: the last matching line wins (`!` re-includes); a path inside an excluded folder is excluded. */
function excluded(lines: string[], path: string): boolean {
  const rules = lines
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) =>
      l.startsWith('!')
        ? { keep: true, re: patternRegex(l.slice(1).replace(/^\/+/, '')) }
        : { keep: false, re: patternRegex(l.replace(/^\/+/, '')) },
    )
  const segments = path.split('/')
  // The path itself or any parent folder.
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'))
  let out = false
  for (const rule of rules) if (candidates.some((c) => rule.re.test(c))) out = !rule.keep
  return out
}

const dockerignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n')

describe('.dockerignore keeps keys out of the build context', () => {
  test('the matcher follows Docker: the old root-only `.data` line missed apps/api/.data/keys', () => {
    expect(excluded(['.data'], '.data/keys/k.pem')).toBe(true)
    expect(excluded(['.data'], 'apps/api/.data/keys/access-token-ed25519.pem')).toBe(false)
    expect(excluded(['**/.data'], '.data/x')).toBe(true)
    expect(excluded(['**/*.pem', '!a/ok.pem'], 'a/ok.pem')).toBe(false)
  })

  test.each([
    'apps/api/.data/keys/access-token-ed25519.pem',
    '.data/keys/access-token-ed25519.pem',
    'apps/web-demo/.data/anything',
    'workers/grader-py/.data/keys/k.pem',
    'keys/prod.pem',
    'deploy/keys/jwt',
    'apps/api/jwt.key',
    'some/where/signing.pem',
    '.env',
    'apps/api/.env',
    'apps/api/.env.production',
  ])('%s is excluded', (path) => {
    expect(excluded(dockerignore, path)).toBe(true)
  })

  test('the default DEV_KEY_DIR, as the API resolves it from its own folder, is excluded', () => {
    const keyDir = testConfig().DEV_KEY_DIR
    const path = relative(REPO_ROOT, resolve(API_DIR, keyDir, 'access-token-ed25519.pem'))
      .split('\\')
      .join('/')
    expect(path.startsWith('..')).toBe(false)
    expect(excluded(dockerignore, path)).toBe(true)
  })

  test('the sources the images need are still in the context', () => {
    for (const path of [
      'apps/api/src/auth/keys.ts',
      'apps/api/src/index.ts',
      'packages/db/drizzle/0000_init.sql',
      'workers/grader-py/src/grader/jobs.py',
      'bun.lock',
    ]) {
      expect(excluded(dockerignore, path)).toBe(false)
    }
  })
})
