import type pg from 'pg'
import type { AuditFilter, AuditRow, AuditTable, NewAuditRow } from '../control-plane.js'
import { inTransaction, SCHEMA } from './pool.js'

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

const COLUMNS = 'id, at, actor_key_id, action, target, outcome, metadata::text AS metadata_json, worker'
const FILTER_COLUMNS: Record<keyof AuditFilter, string> = {
  correlationId: "(metadata ->> 'correlationId')",
  actorKeyId: 'actor_key_id',
  action: 'action'
}
const INSERT = `INSERT INTO ${SCHEMA}.audit_log (at, actor_key_id, action, target, outcome, metadata, worker, import_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

function insertParams (row: NewAuditRow, importKey: string | null = null): unknown[] {
  return [row.at, row.actorKeyId, row.action, row.target, row.outcome, row.metadataJson, row.worker, importKey]
}

export class PostgresAudit implements AuditTable {
  readonly #pool: pg.Pool

  constructor (pool: pg.Pool) {
    this.#pool = pool
  }

  async insert (row: NewAuditRow): Promise<void> {
    await this.#pool.query(INSERT, insertParams(row))
  }

  async query (filter: AuditFilter, limit: number, before?: number): Promise<AuditRow[]> {
    const fields = (Object.keys(FILTER_COLUMNS) as Array<keyof AuditFilter>).filter((field) => filter[field] !== undefined)
    const params: unknown[] = fields.map((field) => filter[field])
    const conditions = fields.map((field, i) => `${FILTER_COLUMNS[field]} = $${i + 1}`)
    if (before !== undefined) {
      params.push(before)
      conditions.push(`id < $${params.length}`)
    }
    params.push(limit)
    const { rows } = await this.#pool.query<Row>(`SELECT ${COLUMNS} FROM ${SCHEMA}.audit_log
      ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`, params)
    return rows.map(fromRow)
  }

  async findByCorrelationId (correlationId: string): Promise<AuditRow[]> {
    const { rows } = await this.#pool.query<Row>(`SELECT ${COLUMNS} FROM ${SCHEMA}.audit_log
      WHERE (metadata ->> 'correlationId') = $1 ORDER BY id`, [correlationId])
    return rows.map(fromRow)
  }

  async import (rows: ReadonlyArray<NewAuditRow & { importKey: string }>): Promise<number> {
    return await inTransaction(this.#pool, async (client) => {
      let added = 0
      for (const row of rows) added += (await client.query(`${INSERT} ON CONFLICT (import_key) DO NOTHING`, insertParams(row, row.importKey))).rowCount ?? 0
      return added
    })
  }
}
