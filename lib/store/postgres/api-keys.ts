import type pg from 'pg'
import type { ApiKeyRow, ApiKeySeed, ApiKeyTable } from '../control-plane.js'
import type { PostgresListener } from './listener.js'
import { inTransaction, SCHEMA, type Queryable } from './pool.js'

interface Row {
  id: string
  key_hash: Buffer
  name: string | null
  scopes: ApiKeyRow['scopes']
  rate_limit_per_minute: number | null
  source: ApiKeyRow['source']
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
}

function fromRow (row: Row): ApiKeyRow {
  return {
    id: row.id,
    keyHash: row.key_hash,
    name: row.name,
    scopes: row.scopes,
    rateLimitPerMinute: row.rate_limit_per_minute,
    source: row.source,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at
  }
}

const INSERT = `INSERT INTO ${SCHEMA}.api_keys (id, key_hash, name, scopes, rate_limit_per_minute, source, created_at, last_used_at, revoked_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

function insertParams (row: ApiKeyRow): unknown[] {
  return [row.id, row.keyHash, row.name, JSON.stringify(row.scopes), row.rateLimitPerMinute, row.source, row.createdAt, row.lastUsedAt, row.revokedAt]
}

async function one (db: Queryable, sql: string, params: unknown[]): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<Row>(sql, params)
  return rows[0] === undefined ? undefined : fromRow(rows[0])
}

/** The channel every write to a key is announced on (in its transaction: delivered on commit). */
export const KEYS_CHANGED_CHANNEL = 'compute_worker_api_keys_changed'
const NOTIFY = `pg_notify('${KEYS_CHANGED_CHANNEL}', '')`

export class PostgresApiKeys implements ApiKeyTable {
  readonly #pool: pg.Pool
  readonly #listener: PostgresListener
  #generation = 0

  /** `listener` must call `changedNotification` on each `KEYS_CHANGED_CHANNEL` notification and each time it (re)listens. */
  constructor (pool: pg.Pool, listener: PostgresListener) {
    this.#pool = pool
    this.#listener = listener
  }

  /** A key may have changed on some worker (or the listener was down, when anything may have). */
  changedNotification (): void {
    this.#generation++
  }

  // Moves with every notification; undefined while nothing would be notified (the listener is
  // down or still connecting), which it starts reopening without waiting for it.
  changeToken (): number | undefined {
    if (this.#listener.listening) return this.#generation
    this.#listener.open().catch(() => {})
    return undefined
  }

  async findLiveByHash (keyHash: Buffer): Promise<ApiKeyRow | undefined> {
    return await one(this.#pool, `SELECT * FROM ${SCHEMA}.api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [keyHash])
  }

  async findLiveById (id: string): Promise<ApiKeyRow | undefined> {
    return await one(this.#pool, `SELECT * FROM ${SCHEMA}.api_keys WHERE id = $1 AND revoked_at IS NULL`, [id])
  }

  async get (id: string): Promise<ApiKeyRow | undefined> {
    return await one(this.#pool, `SELECT * FROM ${SCHEMA}.api_keys WHERE id = $1`, [id])
  }

  async list (): Promise<ApiKeyRow[]> {
    const { rows } = await this.#pool.query<Row>(`SELECT * FROM ${SCHEMA}.api_keys ORDER BY created_at, id`)
    return rows.map(fromRow)
  }

  // Workers starting at once seed the same keys: the unique hash makes the second insert an update.
  async seed (seeds: readonly ApiKeySeed[], at: number): Promise<void> {
    if (seeds.length === 0) return
    await this.#written(inTransaction(this.#pool, async (client) => {
      await client.query(`SELECT ${NOTIFY}`)
      for (const seed of seeds) {
        await client.query(`${INSERT} ON CONFLICT (key_hash) DO UPDATE
          SET name = excluded.name, scopes = excluded.scopes, rate_limit_per_minute = excluded.rate_limit_per_minute`,
        insertParams({ id: seed.newId, keyHash: seed.keyHash, name: seed.name, scopes: seed.scopes, rateLimitPerMinute: seed.rateLimitPerMinute, source: 'seed', createdAt: at, lastUsedAt: null, revokedAt: null }))
      }
    }))
  }

  async insert (row: ApiKeyRow): Promise<void> {
    await this.#written(this.#pool.query(`WITH inserted AS (${INSERT} RETURNING 1) SELECT ${NOTIFY} FROM inserted`, insertParams(row)))
  }

  async revoke (id: string, at: number): Promise<boolean> {
    const { rows: [row] } = await this.#written(this.#pool.query<{ changed: number }>(`WITH revoked AS (
      UPDATE ${SCHEMA}.api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING 1
    ) SELECT (SELECT count(*) FROM revoked)::int AS changed, ${NOTIFY}`, [at, id]))
    return row?.changed === 1
  }

  async touch (id: string, at: number): Promise<void> {
    await this.#pool.query(`UPDATE ${SCHEMA}.api_keys SET last_used_at = $1 WHERE id = $2`, [at, id])
  }

  async import (rows: readonly ApiKeyRow[]): Promise<number> {
    return await this.#written(inTransaction(this.#pool, async (client) => {
      await client.query(`SELECT ${NOTIFY}`)
      let added = 0
      for (const row of rows) added += (await client.query(`${INSERT} ON CONFLICT DO NOTHING`, insertParams(row))).rowCount ?? 0
      return added
    }))
  }

  // This worker's own writes count at once, without waiting for their notification.
  async #written<T> (write: Promise<T>): Promise<T> {
    try {
      return await write
    } finally {
      this.#generation++
    }
  }
}
