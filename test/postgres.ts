import { randomBytes } from 'node:crypto'
import { connect, createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import pg from 'pg'
import { SEED_KEYS, tempDir } from './helper.js'

/**
 * PostgreSQL for the tests: `COMPUTE_WORKER_TEST_POSTGRES_URL`, set by scripts/postgres-for-tests.sh
 * (which `.ci/run` wraps `npm test` in). Without it the PostgreSQL tests skip with this reason,
 * except under CI (or COMPUTE_WORKER_TEST_POSTGRES_REQUIRED=1), where they fail.
 */
export const POSTGRES_URL = process.env.COMPUTE_WORKER_TEST_POSTGRES_URL?.trim() || undefined
const REQUIRED = process.env.CI === 'true' || process.env.COMPUTE_WORKER_TEST_POSTGRES_REQUIRED === '1'
const MISSING = 'COMPUTE_WORKER_TEST_POSTGRES_URL is not set: run the tests through scripts/postgres-for-tests.sh'

/** Options for `test()`: skipped, with the reason, when no PostgreSQL is given outside CI. */
export const needsPostgres: { skip?: string } = POSTGRES_URL !== undefined || REQUIRED ? {} : { skip: MISSING }

async function withAdminClient<T> (use: (client: pg.Client) => Promise<T>): Promise<T> {
  if (POSTGRES_URL === undefined) throw new Error(MISSING)
  const client = new pg.Client({ connectionString: POSTGRES_URL })
  client.on('error', () => {})
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

/** A new, empty database on the test cluster, dropped after the test. Returns its URL. */
export async function freshDatabase (t: TestContext): Promise<string> {
  const name = `cw_test_${randomBytes(6).toString('hex')}`
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`))
  t.after(() => withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)))
  const url = new URL(POSTGRES_URL as string)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * The standalone server's environment on world-postgres at `url` (the two variables that make
 * the move from world-local), with a SQLite file and artifact directory of its own in a temp dir.
 */
export async function postgresWorkerEnv (t: TestContext, url: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dir = await tempDir(t)
  return {
    WORKFLOW_TARGET_WORLD: '@workflow/world-postgres',
    WORKFLOW_POSTGRES_URL: url,
    COMPUTE_WORKER_SQLITE_PATH: join(dir, 'worker.db'),
    COMPUTE_WORKER_ARTIFACT_DIR: join(dir, 'artifacts'),
    COMPUTE_WORKER_API_KEYS: JSON.stringify(SEED_KEYS),
    ...extra
  }
}

/** Runs one query on `url` and returns its rows. */
export async function query<T extends pg.QueryResultRow> (url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

export interface TcpProxy {
  /** `url` with its host and port replaced by the proxy's. */
  url: string
  /** Stop forwarding bytes (connections stay open, new ones wait): a database that does not answer. */
  pause: () => void
  resume: () => void
  /** Close every connection and refuse new ones: the database is gone. */
  cut: () => void
}

/** A TCP proxy in front of the database at `url`, for fault injection on the real server. */
export async function startTcpProxy (t: TestContext, url: string): Promise<TcpProxy> {
  const target = new URL(url)
  const sockets = new Set<Socket>()
  let paused = false
  let held: Array<() => void> = []
  const later = (action: () => void) => { if (paused) held.push(action); else action() }

  const server = createServer((client) => {
    later(() => {
      const upstream = connect(Number(target.port), target.hostname)
      for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
        sockets.add(from)
        from.on('data', (chunk) => later(() => { to.write(chunk) }))
        from.on('error', () => {})
        from.on('close', () => { sockets.delete(from); to.destroy() })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const cut = () => {
    server.close()
    for (const socket of sockets) socket.destroy()
  }
  t.after(cut)
  const proxied = new URL(url)
  proxied.host = `127.0.0.1:${(server.address() as { port: number }).port}`
  return {
    url: proxied.toString(),
    pause: () => { paused = true },
    resume: () => {
      paused = false
      const actions = held
      held = []
      for (const action of actions) action()
    },
    cut
  }
}
