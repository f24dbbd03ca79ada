import type pg from 'pg'
import type { UiSessionRow, UiSessionTable } from '../control-plane.js'
import { SCHEMA } from './pool.js'

interface Row {
  api_key_id: string
  created_at: number
  last_seen_at: number
  expires_at: number
  revoked_at: number | null
}

export class PostgresUiSessions implements UiSessionTable {
  readonly #pool: pg.Pool

  constructor (pool: pg.Pool) {
    this.#pool = pool
  }

  async insert (id: string, apiKeyId: string, createdAt: number, expiresAt: number): Promise<void> {
    await this.#pool.query(`INSERT INTO ${SCHEMA}.ui_sessions (id, api_key_id, created_at, last_seen_at, expires_at)
      VALUES ($1, $2, $3, $3, $4)`, [id, apiKeyId, createdAt, expiresAt])
  }

  async get (id: string): Promise<UiSessionRow | undefined> {
    const { rows: [row] } = await this.#pool.query<Row>(`SELECT s.api_key_id, s.created_at, s.last_seen_at, s.expires_at, k.revoked_at
      FROM ${SCHEMA}.ui_sessions s JOIN ${SCHEMA}.api_keys k ON k.id = s.api_key_id WHERE s.id = $1`, [id])
    return row === undefined
      ? undefined
      : { apiKeyId: row.api_key_id, createdAt: row.created_at, lastSeenAt: row.last_seen_at, expiresAt: row.expires_at, keyRevokedAt: row.revoked_at }
  }

  async touch (id: string, at: number): Promise<void> {
    await this.#pool.query(`UPDATE ${SCHEMA}.ui_sessions SET last_seen_at = $1 WHERE id = $2`, [at, id])
  }

  async delete (id: string): Promise<void> {
    await this.#pool.query(`DELETE FROM ${SCHEMA}.ui_sessions WHERE id = $1`, [id])
  }

  async purge (now: number, idleBefore: number): Promise<number> {
    const { rowCount } = await this.#pool.query(`DELETE FROM ${SCHEMA}.ui_sessions WHERE expires_at <= $1 OR last_seen_at <= $2
      OR api_key_id IN (SELECT id FROM ${SCHEMA}.api_keys WHERE revoked_at IS NOT NULL)`, [now, idleBefore])
    return rowCount ?? 0
  }
}
