import type Database from 'better-sqlite3'
import type { AuditFilter, AuditRow, AuditTable, NewAuditRow } from '../control-plane.js'
import type { SqliteDatabase } from './database.js'
import type { GroupCommit } from './group-commit.js'

interface Row {
  id: number
  at: number
  actor_key_id: string | null
  action: string
  target: string | null
  outcome: string
  metadata_json: string
  worker: string | null
}

function fromRow (row: Row): AuditRow {
  return {
    id: row.id,
    at: row.at,
    actorKeyId: row.actor_key_id,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    metadataJson: row.metadata_json,
    worker: row.worker
  }
}

// The correlation id is found through an expression index on the JSON.
const FILTER_COLUMNS: Record<keyof AuditFilter, string> = {
  correlationId: "json_extract(metadata_json, '$.correlationId')",
  actorKeyId: 'actor_key_id',
  action: 'action'
}

export class SqliteAudit implements AuditTable {
  readonly #db: SqliteDatabase
  readonly #writes: GroupCommit
  readonly #insert
  readonly #byCorrelation
  readonly #imported
  readonly #markImported
  readonly #queries = new Map<string, Database.Statement<unknown[], Row>>()

  constructor (db: SqliteDatabase, writes: GroupCommit) {
    this.#db = db
    this.#writes = writes
    this.#insert = db.prepare(`INSERT INTO audit_log (at, actor_key_id, action, target, outcome, metadata_json, worker)
      VALUES (@at, @actorKeyId, @action, @target, @outcome, @metadataJson, @worker)`)
    this.#byCorrelation = db.prepare<[string], Row>(
      'SELECT * FROM audit_log WHERE json_extract(metadata_json, \'$.correlationId\') = ? ORDER BY id')
    this.#imported = db.prepare<[string], { found: number }>('SELECT 1 AS found FROM audit_imports WHERE import_key = ?')
    this.#markImported = db.prepare('INSERT INTO audit_imports (import_key) VALUES (?)')
  }

  async insert (row: NewAuditRow): Promise<void> {
    await this.#writes.run(() => this.#insert.run(row))
  }

  async query (filter: AuditFilter, limit: number, before?: number): Promise<AuditRow[]> {
    this.#writes.flush()
    const fields = (Object.keys(FILTER_COLUMNS) as Array<keyof AuditFilter>).filter((field) => filter[field] !== undefined)
    const conditions = [...fields.map((field) => `${FILTER_COLUMNS[field]} = ?`), ...(before !== undefined ? ['id < ?'] : [])]
    const sql = `SELECT * FROM audit_log${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
    let statement = this.#queries.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare<unknown[], Row>(sql)
      this.#queries.set(sql, statement)
    }
    return statement.all(...fields.map((field) => filter[field]), ...(before !== undefined ? [before] : []), limit).map(fromRow)
  }

  async findByCorrelationId (correlationId: string): Promise<AuditRow[]> {
    this.#writes.flush()
    return this.#byCorrelation.all(correlationId).map(fromRow)
  }

  async import (rows: ReadonlyArray<NewAuditRow & { importKey: string }>): Promise<number> {
    return this.#db.transaction(() => {
      let added = 0
      for (const { importKey, ...row } of rows) {
        if (this.#imported.get(importKey) !== undefined) continue
        this.#markImported.run(importKey)
        this.#insert.run(row)
        added++
      }
      return added
    }).immediate()
  }
}
