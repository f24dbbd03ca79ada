import { dirname, join } from 'node:path'
import type { World } from '@workflow/world'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import { Logger, makeWorkerUtils } from 'graphile-worker'
import pg from 'pg'
import { requireWorldModule, resolveWorldModule } from './module.js'

export const POSTGRES_WORLD = '@workflow/world-postgres'

/** world-postgres's own settings, as it reads them from `WORKFLOW_POSTGRES_*`. */
export interface PostgresWorldSettings {
  connectionString: string
  /** Prefix of the graphile-worker queue names (`WORKFLOW_POSTGRES_JOB_PREFIX`). */
  jobPrefix?: string
  /** Queue jobs run at once by this process (`WORKFLOW_POSTGRES_WORKER_CONCURRENCY`, default 10). */
  queueConcurrency?: number
  /** Connections in the World's pool (`WORKFLOW_POSTGRES_MAX_POOL_SIZE`, pg's default 10). */
  maxPoolSize?: number
}

/** world-postgres's settings from its own environment variables, read as leniently as it reads them. */
export function postgresSettingsFromEnv (env: Record<string, string | undefined>): PostgresWorldSettings {
  const positive = (raw: string | undefined) => {
    const value = Number.parseInt(raw ?? '', 10)
    return Number.isFinite(value) && value > 0 ? value : undefined
  }
  return {
    connectionString: env.WORKFLOW_POSTGRES_URL?.trim() || 'postgres://world:world@localhost:5432/world',
    jobPrefix: env.WORKFLOW_POSTGRES_JOB_PREFIX?.trim() || undefined,
    queueConcurrency: positive(env.WORKFLOW_POSTGRES_WORKER_CONCURRENCY),
    maxPoolSize: positive(env.WORKFLOW_POSTGRES_MAX_POOL_SIZE)
  }
}

export class WorldSetupError extends Error {
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'WorldSetupError'
  }
}

/** The connection string without its password, for messages and logs. */
export function redactConnectionString (connectionString: string): string {
  try {
    const url = new URL(connectionString)
    if (url.password !== '') url.password = '***'
    return url.toString()
  } catch {
    return '(an unparsable connection string)'
  }
}

/**
 * world-postgres on a pool this module owns. world-postgres creates a pool without an 'error'
 * listener when given none (4.3.7), so a pooled connection that PostgreSQL closes while idle
 * (a restart, idle_session_timeout, pg_terminate_backend) would kill the process.
 */
export function createPostgresWorld (settings: PostgresWorldSettings, onPoolError: (error: Error) => void = () => {}): World {
  const { createWorld } = requireWorldModule(POSTGRES_WORLD) as {
    createWorld: (config: Record<string, unknown>) => World
  }
  const pool = new pg.Pool({
    connectionString: settings.connectionString,
    ...(settings.maxPoolSize !== undefined ? { max: settings.maxPoolSize } : {})
  })
  pool.on('error', onPoolError)
  const world = createWorld({
    pool,
    jobPrefix: settings.jobPrefix,
    queueConcurrency: settings.queueConcurrency ?? 10
  })
  return {
    ...world,
    async close () {
      try {
        await world.close?.()
      } catch (error) {
        // graphile-worker handles SIGTERM/SIGINT itself (world-postgres does not pass it
        // noHandleSignals) and stops its runner; world-postgres's close() then throws this.
        if ((error as Error)?.message !== 'Runner is already stopped') throw error
      } finally {
        await pool.end()
      }
    }
  }
}

export interface PostgresWorldMigration {
  /** Drizzle migrations of world-postgres applied by this call (0 when the schema was current). */
  applied: number
  /** Drizzle migrations recorded in the database afterwards. */
  total: number
}

const MIGRATIONS_SCHEMA = 'workflow_drizzle'
const MIGRATIONS_TABLE = 'workflow_migrations'
const CONNECT_TIMEOUT_MS = 10_000
// Serializes schema set-up between workers starting at once on one database: neither drizzle's
// migrator nor graphile-worker's installSchema is safe to run concurrently (duplicate schema errors).
const MIGRATION_LOCK = 'compute-worker:world-postgres-schema'

async function countMigrations (client: pg.PoolClient): Promise<number> {
  const table = `${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}`
  const exists = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table])
  if (exists.rows[0]?.present !== true) return 0
  const { rows } = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`)
  return Number(rows[0]?.count ?? 0)
}

/**
 * Sets up or upgrades the World's schema in PostgreSQL, as world-postgres's `bootstrap` bin does
 * (its drizzle migrations, then graphile-worker's schema), under an advisory lock so several
 * workers may run it at once. Idempotent. The bin itself calls `process.exit`, hence this.
 */
export async function migratePostgresWorld (connectionString: string): Promise<PostgresWorldMigration> {
  const migrationsFolder = join(dirname(resolveWorldModule(POSTGRES_WORLD)), '..', 'src', 'drizzle', 'migrations')
  const pool = new pg.Pool({ connectionString, max: 2, connectionTimeoutMillis: CONNECT_TIMEOUT_MS })
  pool.on('error', () => {})
  let client: pg.PoolClient | undefined
  try {
    client = await pool.connect()
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [MIGRATION_LOCK])
    const before = await countMigrations(client)
    await migrate(drizzle(client), { migrationsFolder, migrationsTable: MIGRATIONS_TABLE, migrationsSchema: MIGRATIONS_SCHEMA })
    const workerUtils = await makeWorkerUtils({ pgPool: pool, logger: silentLogger })
    try {
      await workerUtils.migrate()
    } finally {
      await workerUtils.release()
    }
    const total = await countMigrations(client)
    return { applied: total - before, total }
  } catch (error) {
    throw new WorldSetupError(
      `could not set up the World's schema in PostgreSQL at ${redactConnectionString(connectionString)}: ${(error as Error).message}`,
      { cause: error })
  } finally {
    // Ending the session releases the advisory lock too.
    client?.release()
    await pool.end()
  }
}

const silentLogger = new Logger(() => () => {})
