/**
 * Writes the committed OpenAPI snapshot (apps/api/openapi.json) from the routes, or with `--check` exits 1
 * when the snapshot differs from what the routes describe now (a route changed without regenerating).
 * Mobile and other clients are generated from the snapshot (packages/api-client).
 */
import { join } from 'node:path'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import type { AppDeps } from '../src/deps'
import { buildOpenApiDocument } from '../src/openapi/routes'

export const SNAPSHOT = join(import.meta.dir, '../openapi.json')

/**
 * A dependency that accepts every call and does nothing: the document needs the routes only, and some
 * plugins wire listeners (e.g. cache invalidation over Redis pub/sub) while the app is built.
 */
function inert(): never {
  const target = () => {}
  const proxy: object = new Proxy(target, { get: (_t, key) => (key === 'then' ? undefined : proxy), apply: () => proxy })
  return proxy as never
}

/** Routes only: no request is served, so inert placeholders stand in for the database and Redis. */
export function currentDocumentText(): string {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://placeholder@127.0.0.1:5432/placeholder' })
  const placeholder = inert()
  const deps: AppDeps = { config, db: placeholder, sql: placeholder, redis: placeholder, events: placeholder, keys: placeholder }
  return `${JSON.stringify(buildOpenApiDocument(createApp(deps)), null, 2)}\n`
}

if (import.meta.main) {
  const fresh = currentDocumentText()
  const file = Bun.file(SNAPSHOT)
  const committed = (await file.exists()) ? await file.text() : ''
  if (process.argv.includes('--check')) {
    if (committed !== fresh) {
      console.error(
        'apps/api/openapi.json is out of date: run `bun run --cwd apps/api openapi` and commit it (then regenerate packages/api-client)',
      )
      process.exit(1)
    }
    console.log('apps/api/openapi.json matches the routes')
  } else {
    await Bun.write(SNAPSHOT, fresh)
    console.log(committed === fresh ? 'apps/api/openapi.json unchanged' : 'wrote apps/api/openapi.json')
  }
}
