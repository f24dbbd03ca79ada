import type { ControlPlane } from '../control-plane.js'
import { SqliteApiKeys } from './api-keys.js'
import { SqliteAudit } from './audit.js'
import { openDatabase, type SqliteDatabase } from './database.js'
import { SqliteDeployments } from './deployments.js'
import { GroupCommit } from './group-commit.js'
import { SqliteIdempotency } from './idempotency.js'
import { SqliteUiSessions } from './ui-sessions.js'

/**
 * The control plane in one SQLite file (better-sqlite3): the embedded default, nothing to
 * install. Statements are synchronous and prepared once; the async methods only wrap them, and
 * the hot path's writes of one event-loop turn share one commit (`GroupCommit`). Deployment files live under `artifactDir`.
 */
export class SqliteControlPlane implements ControlPlane {
  readonly kind = 'sqlite' as const
  readonly location: string
  /** The database handle, for tests that inject faults; the worker itself goes through the tables. */
  readonly database: SqliteDatabase
  readonly apiKeys: SqliteApiKeys
  readonly idempotency: SqliteIdempotency
  readonly deployments: SqliteDeployments
  readonly audit: SqliteAudit
  readonly uiSessions: SqliteUiSessions
  readonly #writes: GroupCommit
  readonly #probeRead
  #probeWrite: ReturnType<SqliteDatabase['prepare']> | undefined

  constructor (path: string, artifactDir: string) {
    this.location = path
    const db = this.database = openDatabase(path)
    this.#writes = new GroupCommit(db)
    this.apiKeys = new SqliteApiKeys(db)
    this.idempotency = new SqliteIdempotency(db, this.#writes)
    this.deployments = new SqliteDeployments(db, artifactDir)
    this.audit = new SqliteAudit(db, this.#writes)
    this.uiSessions = new SqliteUiSessions(db)
    this.#probeRead = db.prepare('SELECT 1 AS ok')
  }

  async probe (): Promise<boolean> {
    try {
      return this.#probeRead.get() !== undefined
    } catch {
      return false
    }
  }

  async probeWrite (at: number): Promise<void> {
    // Prepared on first use: a statement prepared on a closed database throws, and that is the answer.
    this.#probeWrite ??= this.database.prepare(`INSERT INTO health_probe (singleton, checked_at) VALUES (1, ?)
      ON CONFLICT (singleton) DO UPDATE SET checked_at = excluded.checked_at`)
    this.#probeWrite.run(at)
  }

  async schemaVersion (): Promise<number> {
    return this.database.pragma('user_version', { simple: true }) as number
  }

  async close (): Promise<void> {
    // What was accepted before the close is committed, not dropped.
    this.#writes.flush()
    if (this.database.open) this.database.close()
  }
}
