import type Database from 'better-sqlite3'
import { decodeCursor, encodeCursor, type Page } from '../pagination.js'
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

/** What `GET /v1/audit` filters by; every given field must match exactly. */
export interface AuditFilter {
  correlationId?: string
  actorKeyId?: string
  action?: string
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

const FILTER_COLUMNS: Record<keyof AuditFilter, string> = {
  correlationId: "json_extract(metadata_json, '$.correlationId')",
  actorKeyId: 'actor_key_id',
  action: 'action'
}

type AuditPosition = { before: number }
const isAuditPosition = (value: Record<string, unknown>): boolean => Number.isSafeInteger(value.before)

/** One row per mutating request; found again by correlation id through an expression index. */
export class AuditLog {
  readonly #db: SqliteDatabase
  readonly #insert
  readonly #byCorrelation
  readonly #recent
  readonly #queries = new Map<string, Database.Statement<unknown[], AuditRow>>()

  constructor (db: SqliteDatabase) {
    this.#db = db
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

  /** Rows matching `filter`, newest first; the cursor continues below the last row shown. */
  query (filter: AuditFilter, limit: number, cursor?: string): Page<AuditRecord> {
    const position = decodeCursor<AuditPosition>(cursor, isAuditPosition)
    const fields = (Object.keys(FILTER_COLUMNS) as Array<keyof AuditFilter>).filter((field) => filter[field] !== undefined)
    const conditions = [...fields.map((field) => `${FILTER_COLUMNS[field]} = ?`), ...(position !== undefined ? ['id < ?'] : [])]
    const sql = `SELECT * FROM audit_log${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
    let statement = this.#queries.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare<unknown[], AuditRow>(sql)
      this.#queries.set(sql, statement)
    }
    // One row more than asked says whether there is a next page.
    const rows = statement.all(...fields.map((field) => filter[field]), ...(position !== undefined ? [position.before] : []), limit + 1)
    const page = rows.slice(0, limit).map(toRecord)
    const hasMore = rows.length > limit
    return { data: page, cursor: hasMore ? encodeCursor({ before: page[page.length - 1].id }) : null, hasMore }
  }
}
