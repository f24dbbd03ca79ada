import type { SqliteDatabase } from './database.js'

export type AuditOutcome = 'success' | 'failure' | 'denied' | 'duplicate' | (string & {})

export interface AuditEntry {
  action: string
  outcome: AuditOutcome
  correlationId: string
  actorKeyId?: string | null
  target?: string | null
  runId?: string | null
  /** Further facts, merged into metadata_json next to correlationId and runId. */
  metadata?: Record<string, unknown>
}

export interface AuditRecord {
  id: number
  at: string
  actorKeyId: string | null
  action: string
  target: string | null
  outcome: string
  metadata: { correlationId: string, runId?: string } & Record<string, unknown>
}

interface AuditRow {
  id: number
  at: number
  actor_key_id: string | null
  action: string
  target: string | null
  outcome: string
  metadata_json: string
}

function toRecord (row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actorKeyId: row.actor_key_id,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    metadata: JSON.parse(row.metadata_json)
  }
}

/** One row per mutating request; found again by correlation id through an expression index. */
export class AuditLog {
  readonly #insert
  readonly #byCorrelation
  readonly #recent

  constructor (db: SqliteDatabase) {
    this.#insert = db.prepare(`INSERT INTO audit_log (at, actor_key_id, action, target, outcome, metadata_json)
      VALUES (?, ?, ?, ?, ?, ?)`)
    this.#byCorrelation = db.prepare<[string], AuditRow>(
      'SELECT * FROM audit_log WHERE json_extract(metadata_json, \'$.correlationId\') = ? ORDER BY id')
    this.#recent = db.prepare<[number], AuditRow>('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?')
  }

  record (entry: AuditEntry): void {
    const metadata = {
      ...entry.metadata,
      correlationId: entry.correlationId,
      ...(entry.runId ? { runId: entry.runId } : {})
    }
    this.#insert.run(Date.now(), entry.actorKeyId ?? null, entry.action, entry.target ?? null, entry.outcome,
      JSON.stringify(metadata))
  }

  findByCorrelationId (correlationId: string): AuditRecord[] {
    return this.#byCorrelation.all(correlationId).map(toRecord)
  }

  recent (limit = 100): AuditRecord[] {
    return this.#recent.all(limit).map(toRecord)
  }
}
