import { afterAll, describe, expect, test } from 'bun:test'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const packageDir = resolve(import.meta.dir, '..')
const repoRoot = resolve(packageDir, '../..')
const scratch = mkdtempSync(join(tmpdir(), 'contracts-drift-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** A copy of packages/contracts beside the real worker, so a schema can be edited without touching the repo. */
function mirror(name: string): string {
  const root = join(scratch, name)
  const contracts = join(root, 'packages/contracts')
  mkdirSync(join(root, 'workers'), { recursive: true })
  for (const part of ['src', 'scripts', 'generated', 'package.json'])
    cpSync(join(packageDir, part), join(contracts, part), { recursive: true })
  symlinkSync(join(packageDir, 'node_modules'), join(contracts, 'node_modules'))
  symlinkSync(join(repoRoot, 'workers/grader-py'), join(root, 'workers/grader-py'))
  return contracts
}

const check = (contractsDir: string) =>
  Bun.spawnSync(['bun', 'scripts/generate.ts', '--check'], { cwd: contractsDir, stdout: 'pipe', stderr: 'pipe' })

describe('generated contracts drift check', () => {
  test('passes on the committed sources', () => {
    const run = check(mirror('clean'))
    expect(run.stderr.toString()).toBe('')
    expect(run.exitCode).toBe(0)
  }, 60_000)

  test('fails, naming the stale files, when a zod schema changes without regeneration', () => {
    const contracts = mirror('edited')
    const jobs = join(contracts, 'src/jobs.ts')
    const source = readFileSync(jobs, 'utf8')
    const edited = source.replace('submission_id: z.uuid(),', 'submission_id: z.uuid(),\n    priority_hint: z.string().optional(),')
    expect(edited).not.toBe(source)
    writeFileSync(jobs, edited)
    const run = check(contracts)
    expect(run.exitCode).toBe(1)
    const message = run.stderr.toString()
    expect(message).toContain('worker-contracts.schema.json')
    expect(message).toContain('models.py')
  }, 60_000)

  test('fails when a shared function changes without regeneration (the rounding rule)', () => {
    const contracts = mirror('rounding')
    const scoring = join(contracts, 'src/scoring.ts')
    const source = readFileSync(scoring, 'utf8')
    // The rule this package replaced: binary noise within 1e-9 of a half counts as the half.
    const edited = source.replace('export const SCORE_DECIMALS = 12', 'export const SCORE_DECIMALS = 9')
    expect(edited).not.toBe(source)
    writeFileSync(scoring, edited)
    const run = check(contracts)
    expect(run.exitCode).toBe(1)
    expect(run.stderr.toString()).toContain('contract-vectors.json')
    expect(run.stderr.toString()).toContain('constants.py')
  }, 60_000)

  test('fails when the word rule changes without regeneration', () => {
    const contracts = mirror('words')
    const words = join(contracts, 'src/words.ts')
    const source = readFileSync(words, 'utf8')
    const edited = source.replace("export const WORD_JOINERS = `'’-`", "export const WORD_JOINERS = `_'’-`")
    expect(edited).not.toBe(source)
    writeFileSync(words, edited)
    const run = check(contracts)
    expect(run.exitCode).toBe(1)
    expect(run.stderr.toString()).toContain('words.py')
    expect(run.stderr.toString()).toContain('contract-vectors.json')
  }, 60_000)
})
