import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './redis-server'

export type PrivatePostgres = {
  /** URL of the cluster's `postgres` database (superuser, trust auth). */
  adminUrl: (database?: string) => string
  port: number
  /** `pg_ctl restart -m fast`: every client connection is cut, as in a real restart. */
  restart: () => void
  /** The same restart without blocking this process' event loop (traffic goes on meanwhile). */
  restartInBackground: () => Promise<void>
  /** An outage: the server is down until `start`. */
  stop: () => void
  start: () => void
  dispose: () => void
}

const binDir = () => {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  if (!versions[0]) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql')
  return join(root, versions[0], 'bin')
}

/** PostgreSQL refuses to run as root, so its commands run as the `postgres` user when we are root. */
const asPostgresArgv = (cmd: string[]) => (process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...cmd] : cmd)

function asPostgres(cmd: string[]): void {
  const run = Bun.spawnSync(asPostgresArgv(cmd), { stdout: 'pipe', stderr: 'pipe' })
  if (run.exitCode !== 0) throw new Error(`${cmd.join(' ')} failed:\n${run.stderr.toString()}${run.stdout.toString()}`)
}

/**
 * A throw-away PostgreSQL cluster on a free port, for tests that must restart the server (the
 * machine's shared one is never touched). Durability is off: it only has to survive a clean restart.
 */
export function startPrivatePostgres(): PrivatePostgres {
  const bin = binDir()
  const dir = mkdtempSync(join(tmpdir(), 'vstep-pg-'))
  chmodSync(dir, 0o700)
  if (process.getuid?.() === 0) {
    const uid = Number(Bun.spawnSync(['id', '-u', 'postgres']).stdout.toString().trim())
    const gid = Number(Bun.spawnSync(['id', '-g', 'postgres']).stdout.toString().trim())
    chownSync(dir, uid, gid)
  }
  const port = freePort()
  const data = join(dir, 'data')
  asPostgres([join(bin, 'initdb'), '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`
  const ctl = (...args: string[]) =>
    asPostgres([join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', ...args])
  ctl('start')
  let running = true
  process.once('exit', () => {
    if (running) Bun.spawnSync(asPostgresArgv([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']))
  })
  return {
    port,
    adminUrl: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    restart: () => ctl('-m', 'fast', 'restart'),
    restartInBackground: async () => {
      const proc = Bun.spawn(
        asPostgresArgv([join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-m', 'fast', 'restart']),
        { stdout: 'pipe', stderr: 'pipe' },
      )
      if ((await proc.exited) !== 0) throw new Error(`pg_ctl restart failed:\n${await new Response(proc.stderr).text()}`)
    },
    stop: () => ctl('-m', 'fast', 'stop'),
    start: () => ctl('start'),
    dispose: () => {
      if (running) ctl('-m', 'immediate', 'stop')
      running = false
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
