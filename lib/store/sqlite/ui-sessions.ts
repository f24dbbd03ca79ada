import type { UiSessionRow, UiSessionTable } from '../control-plane.js'
import type { SqliteDatabase } from './database.js'

interface Row {
  api_key_id: string
  created_at: number
  last_seen_at: number
  expires_at: number
  revoked_at: number | null
}

export class SqliteUiSessions implements UiSessionTable {
  readonly #insert
  readonly #get
  readonly #touch
  readonly #delete
  readonly #purge

  constructor (db: SqliteDatabase) {
    this.#insert = db.prepare(`INSERT INTO ui_sessions (id, api_key_id, created_at, last_seen_at, expires_at)
      VALUES (?, ?, ?, ?, ?)`)
    this.#get = db.prepare<[string], Row>(`SELECT s.api_key_id, s.created_at, s.last_seen_at, s.expires_at, k.revoked_at
      FROM ui_sessions s JOIN api_keys k ON k.id = s.api_key_id WHERE s.id = ?`)
    this.#touch = db.prepare('UPDATE ui_sessions SET last_seen_at = ? WHERE id = ?')
    this.#delete = db.prepare('DELETE FROM ui_sessions WHERE id = ?')
    this.#purge = db.prepare(`DELETE FROM ui_sessions WHERE expires_at <= @now OR last_seen_at <= @idleBefore
      OR api_key_id IN (SELECT id FROM api_keys WHERE revoked_at IS NOT NULL)`)
  }

  async insert (id: string, apiKeyId: string, createdAt: number, expiresAt: number): Promise<void> {
    this.#insert.run(id, apiKeyId, createdAt, createdAt, expiresAt)
  }

  async get (id: string): Promise<UiSessionRow | undefined> {
    const row = this.#get.get(id)
    return row === undefined
      ? undefined
      : { apiKeyId: row.api_key_id, createdAt: row.created_at, lastSeenAt: row.last_seen_at, expiresAt: row.expires_at, keyRevokedAt: row.revoked_at }
  }

  async touch (id: string, at: number): Promise<void> {
    this.#touch.run(at, id)
  }

  async delete (id: string): Promise<void> {
    this.#delete.run(id)
  }

  async purge (now: number, idleBefore: number): Promise<number> {
    return this.#purge.run({ now, idleBefore }).changes
  }
}
