/**
 * Creates the first admin, or promotes an existing account:
 *   DATABASE_URL=… bun scripts/create-admin.ts --email admin@example.com [--name "Ada"]
 * The password (only needed when the account does not exist yet) is read from the
 * ADMIN_PASSWORD environment variable or, failing that, from the first line of standard input,
 * never from the command line (it would show in `ps` and shell history).
 */
import { parseArgs } from 'node:util'
import { createDatabase, runMigrations } from '@vstep/db'
import { createOrPromoteAdmin } from '../src/admin/service'
import { loadConfig } from '../src/config'

const { values } = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string' } } })
if (!values.email) {
  console.error('usage: bun scripts/create-admin.ts --email <email> [--name <display name>]  (password via ADMIN_PASSWORD or stdin)')
  process.exit(2)
}

async function readPassword(): Promise<string | undefined> {
  if (process.env.ADMIN_PASSWORD) return process.env.ADMIN_PASSWORD
  if (process.stdin.isTTY) process.stdout.write('password (only used if the account must be created): ')
  for await (const line of console) return line.trim() || undefined
  return undefined
}

const config = loadConfig()
await runMigrations(config.DATABASE_URL)
const { db, close } = createDatabase(config.DATABASE_URL, { max: 1 })
try {
  const { user, created } = await createOrPromoteAdmin(db, config, {
    email: values.email,
    password: await readPassword(),
    displayName: values.name,
  })
  console.info(`${created ? 'created' : 'promoted'} admin ${user.email} (${user.id})`)
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
} finally {
  await close()
}
