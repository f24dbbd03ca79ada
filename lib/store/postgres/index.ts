import type pg from 'pg'
import { redactConnectionString } from '../../world/postgres.js'
import type { ControlPlane } from '../control-plane.js'
import { KEYS_CHANGED_CHANNEL, PostgresApiKeys } from './api-keys.js'
import { PostgresAudit } from './audit.js'
import { PostgresDeployments } from './deployments.js'
import { PostgresIdempotency, SETTLED_CHANNEL } from './idempotency.js'
import { PostgresListener } from './listener.js'
import { POSTGRES_MIGRATIONS } from './migrations.js'
import { answerWithin, createPool, SCHEMA } from './pool.js'
import { PostgresRateLimits } from './rate-limits.js'
import { WorkerPresence, type PresenceOptions } from './presence.js'
import { PostgresUiSessions } from './ui-sessions.js'

export class ControlPlaneSetupError extends Error {
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ControlPlaneSetupError'
  }
}

// Health probes answer within this, as the World's does.
const PROBE_TIMEOUT_MS = 2_000
// Serializes schema set-up between workers starting at once on one database.
const MIGRATION_LOCK = 'compute-worker:control-plane-schema'

/**
 * Brings the `compute_worker` schema up to date under an advisory lock: several workers (and
 * `compute-worker migrate`) may run it at once; the first applies, the others find it done.
 * Each migration and its record commit together. Returns the version reached.
 */
export async function migratePostgresControlPlane (pool: pg.Pool): Promise<{ applied: number, version: number }> {
  const client = await pool.connect()
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [MIGRATION_LOCK])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)`)
    const { rows: [{ current }] } = await client.query<{ current: number }>(`SELECT COALESCE(max(version), 0)::int AS current FROM ${SCHEMA}.schema_migrations`)
    if (current > POSTGRES_MIGRATIONS.length) {
      throw new Error(`its schema ${SCHEMA} is at version ${current}, newer than this worker knows (${POSTGRES_MIGRATIONS.length}); upgrade the worker`)
    }
    for (let version = current; version < POSTGRES_MIGRATIONS.length; version++) {
      await client.query('BEGIN')
      try {
        await client.query(POSTGRES_MIGRATIONS[version])
        await client.query(`INSERT INTO ${SCHEMA}.schema_migrations (version, applied_at) VALUES ($1, $2)`, [version + 1, Date.now()])
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      }
    }
    return { applied: POSTGRES_MIGRATIONS.length - current, version: POSTGRES_MIGRATIONS.length }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [MIGRATION_LOCK]).catch(() => {})
    client.release()
  }
}

/**
 * The control plane in PostgreSQL (`pg`), in its own schema `compute_worker`, shared by every
 * worker that names the database: keys, idempotency records, deployments with their files, the
 * active pointer, the audit log and the dashboard's sessions.
 */
export class PostgresControlPlane implements ControlPlane {
  readonly kind = 'postgres' as const
  readonly location: string
  readonly pool: pg.Pool
  readonly apiKeys: PostgresApiKeys
  readonly idempotency: PostgresIdempotency
  readonly deployments: PostgresDeployments
  readonly audit: PostgresAudit
  readonly uiSessions: PostgresUiSessions
  readonly rateLimits: PostgresRateLimits
  /** This worker's session: the leases it claims name it, and end with it. */
  readonly presence: WorkerPresence
  readonly #listener: PostgresListener

  constructor (connectionString: string, artifactDir: string, pool: pg.Pool, presence: WorkerPresence) {
    this.location = redactConnectionString(connectionString)
    this.pool = pool
    this.presence = presence
    // One LISTEN connection: settled claims (for the duplicates waiting here) and key changes (for the key cache).
    this.#listener = new PostgresListener(connectionString, {
      [SETTLED_CHANNEL]: (payload) => { this.idempotency.settledNotification(payload) },
      [KEYS_CHANGED_CHANNEL]: () => { this.apiKeys.changedNotification() }
    }, () => { this.apiKeys.changedNotification() })
    this.apiKeys = new PostgresApiKeys(pool, this.#listener)
    this.idempotency = new PostgresIdempotency(pool, this.#listener, () => presence.holder)
    this.deployments = new PostgresDeployments(pool, artifactDir)
    this.audit = new PostgresAudit(pool)
    this.uiSessions = new PostgresUiSessions(pool)
    this.rateLimits = new PostgresRateLimits(pool)
  }

  async probe (): Promise<boolean> {
    try {
      await answerWithin(this.pool.query('SELECT 1'), PROBE_TIMEOUT_MS)
      return true
    } catch {
      return false
    }
  }

  async probeWrite (at: number): Promise<void> {
    await answerWithin(this.pool.query(`INSERT INTO ${SCHEMA}.health_probe (singleton, checked_at) VALUES (1, $1)
      ON CONFLICT (singleton) DO UPDATE SET checked_at = excluded.checked_at`, [at]), PROBE_TIMEOUT_MS)
  }

  async schemaVersion (): Promise<number> {
    const { rows: [row] } = await this.pool.query<{ version: number }>(`SELECT COALESCE(max(version), 0)::int AS version FROM ${SCHEMA}.schema_migrations`)
    return row.version
  }

  #closed = false

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#listener.close()
    await this.presence.close()
    await this.pool.end()
  }
}

/** Connects, migrates, and fails with the database named (password hidden) when it cannot. */
export async function openPostgresControlPlane (connectionString: string, artifactDir: string, presenceOptions?: PresenceOptions): Promise<PostgresControlPlane> {
  const pool = createPool(connectionString)
  const presence = new WorkerPresence(connectionString, presenceOptions)
  try {
    await migratePostgresControlPlane(pool)
    await presence.start()
  } catch (error) {
    await pool.end().catch(() => {})
    throw new ControlPlaneSetupError(
      `could not open the control plane in PostgreSQL at ${redactConnectionString(connectionString)}: ${(error as Error).message}`, { cause: error })
  }
  return new PostgresControlPlane(connectionString, artifactDir, pool, presence)
}
