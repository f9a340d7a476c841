/**
 * Writes the worker's view of the contracts: a JSON Schema bundle (committed under generated/), the
 * pydantic v2 models made from it by datamodel-code-generator, a constants module (queue and key names,
 * status sets, codes, the grading policy's numbers), the word rule as a Python regular expression, the
 * routing test vectors (routeGrade's decisions over a grid of inputs) and the contract vectors
 * (roundToHalf, overallOf, cefrOf, countWords, status sets) that both languages' tests replay. With
 * `--check` it writes nothing and exits 1 when any committed file differs from a fresh generation.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { buildConstantsModule, buildContractVectors, buildRoutingVectors, buildSchemaBundle, buildWordsModule } from '../src/generation'

const packageDir = resolve(import.meta.dir, '..')
const repoRoot = resolve(packageDir, '../..')
const workerDir = join(repoRoot, 'workers/grader-py')
const outputs = {
  schema: join(packageDir, 'generated/worker-contracts.schema.json'),
  routingVectors: join(packageDir, 'generated/routing-vectors.json'),
  contractVectors: join(packageDir, 'generated/contract-vectors.json'),
  models: join(workerDir, 'src/grader/contracts/models.py'),
  constants: join(workerDir, 'src/grader/contracts/constants.py'),
  words: join(workerDir, 'src/grader/contracts/words.py'),
}

function pydanticModels(schemaPath: string): string {
  const scratch = mkdtempSync(join(tmpdir(), 'contracts-'))
  try {
    const out = join(scratch, 'models.py')
    const run = Bun.spawnSync(
      [
        'uv',
        'run',
        '--frozen',
        '--project',
        workerDir,
        'datamodel-codegen',
        '--input',
        schemaPath,
        '--input-file-type',
        'jsonschema',
        '--output',
        out,
        '--output-model-type',
        'pydantic_v2.BaseModel',
        '--target-python-version',
        '3.11',
        '--use-standard-collections',
        '--use-union-operator',
        '--use-double-quotes',
        '--field-constraints',
        '--use-title-as-name',
        '--disable-timestamp',
        '--enum-field-as-literal',
        'all',
        '--use-annotated',
        '--custom-file-header',
        '# Generated from packages/contracts by `bun run generate`. Do not edit.',
      ],
      { env: { ...process.env, UV_PYTHON_DOWNLOADS: 'never' }, stdout: 'pipe', stderr: 'pipe' },
    )
    if (run.exitCode !== 0) throw new Error(`datamodel-codegen failed:\n${run.stderr.toString()}`)
    return readFileSync(out, 'utf8')
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

const check = process.argv.includes('--check')
const schemaText = `${JSON.stringify(buildSchemaBundle(), null, 2)}\n`
// The models are generated from the fresh schema, so a stale committed schema cannot hide drift.
const scratch = mkdtempSync(join(tmpdir(), 'contracts-schema-'))
const freshSchemaPath = join(scratch, 'worker-contracts.schema.json')
writeFileSync(freshSchemaPath, schemaText)
const fresh: Record<keyof typeof outputs, string> = {
  schema: schemaText,
  routingVectors: buildRoutingVectors(),
  models: pydanticModels(freshSchemaPath),
  constants: buildConstantsModule(),
  contractVectors: buildContractVectors(),
  words: buildWordsModule(),
}
rmSync(scratch, { recursive: true, force: true })

const stale = (Object.keys(outputs) as (keyof typeof outputs)[]).filter(
  (k) => !existsSync(outputs[k]) || readFileSync(outputs[k], 'utf8') !== fresh[k],
)
if (check) {
  if (stale.length > 0) {
    console.error(`generated contracts are out of date: ${stale.map((k) => outputs[k]).join(', ')}`)
    console.error('run `bun run generate` and commit the result')
    process.exit(1)
  }
  console.log('generated contracts are up to date')
} else {
  for (const k of stale) writeFileSync(outputs[k], fresh[k])
  console.log(stale.length ? `wrote ${stale.map((k) => outputs[k]).join(', ')}` : 'nothing to regenerate')
}
