import type { ApiKeyRow, ApiKeySeed, ApiKeyTable } from '../control-plane.js'
import type { SqliteDatabase } from './database.js'

interface Row {
  id: string
  key_hash: Buffer
  name: string | null
  scopes_json: string
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
    scopes: JSON.parse(row.scopes_json),
    rateLimitPerMinute: row.rate_limit_per_minute,
    source: row.source,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at
  }
}

function toParams (row: ApiKeyRow): Record<string, unknown> {
  return {
    id: row.id,
    keyHash: row.keyHash,
    name: row.name,
    scopesJson: JSON.stringify(row.scopes),
    rateLimit: row.rateLimitPerMinute,
    source: row.source,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt
  }
}

export class SqliteApiKeys implements ApiKeyTable {
  readonly #db: SqliteDatabase
  readonly #byHash
  readonly #liveById
  readonly #byId
  readonly #insert
  readonly #import
  readonly #updateSeed
  readonly #touch
  readonly #list
  readonly #revoke
  readonly #dataVersion
  // SQLite's data_version moves with other connections' commits only: this one's key writes count here.
  #ownWrites = 0

  constructor (db: SqliteDatabase) {
    this.#db = db
    this.#byHash = db.prepare<[Buffer], Row>('SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL')
    this.#liveById = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ? AND revoked_at IS NULL')
    this.#byId = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ?')
    const columns = `(id, key_hash, name, scopes_json, rate_limit_per_minute, source, created_at, last_used_at, revoked_at)
      VALUES (@id, @keyHash, @name, @scopesJson, @rateLimit, @source, @createdAt, @lastUsedAt, @revokedAt)`
    this.#insert = db.prepare(`INSERT INTO api_keys ${columns}`)
    this.#import = db.prepare(`INSERT INTO api_keys ${columns} ON CONFLICT DO NOTHING`)
    this.#updateSeed = db.prepare(`UPDATE api_keys SET name = @name, scopes_json = @scopesJson, rate_limit_per_minute = @rateLimit
      WHERE key_hash = @keyHash`)
    this.#touch = db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?')
    this.#list = db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at, id')
    this.#revoke = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
    this.#dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck()
  }

  // Changes when another connection (the CLI, another process) committed anything to the file,
  // or this one wrote a key: cheaper than the key's own read (no row, no decoding).
  changeToken (): string {
    return `${this.#dataVersion.get() as number}:${this.#ownWrites}`
  }

  async findLiveByHash (keyHash: Buffer): Promise<ApiKeyRow | undefined> {
    const row = this.#byHash.get(keyHash)
    return row === undefined ? undefined : fromRow(row)
  }

  async findLiveById (id: string): Promise<ApiKeyRow | undefined> {
    const row = this.#liveById.get(id)
    return row === undefined ? undefined : fromRow(row)
  }

  async get (id: string): Promise<ApiKeyRow | undefined> {
    const row = this.#byId.get(id)
    return row === undefined ? undefined : fromRow(row)
  }

  async list (): Promise<ApiKeyRow[]> {
    return this.#list.all().map(fromRow)
  }

  async seed (seeds: readonly ApiKeySeed[], at: number): Promise<void> {
    this.#db.transaction(() => {
      for (const seed of seeds) {
        const row: ApiKeyRow = { id: seed.newId, keyHash: seed.keyHash, name: seed.name, scopes: seed.scopes, rateLimitPerMinute: seed.rateLimitPerMinute, source: 'seed', createdAt: at, lastUsedAt: null, revokedAt: null }
        if (this.#updateSeed.run(toParams(row)).changes === 0) this.#insert.run(toParams(row))
      }
    }).immediate()
    this.#ownWrites++
  }

  async insert (row: ApiKeyRow): Promise<void> {
    this.#insert.run(toParams(row))
    this.#ownWrites++
  }

  async revoke (id: string, at: number): Promise<boolean> {
    const revoked = this.#revoke.run(at, id).changes > 0
    this.#ownWrites++
    return revoked
  }

  async touch (id: string, at: number): Promise<void> {
    this.#touch.run(at, id)
  }

  async import (rows: readonly ApiKeyRow[]): Promise<number> {
    const added = this.#db.transaction(() => rows.reduce((sum, row) => sum + this.#import.run(toParams(row)).changes, 0)).immediate()
    this.#ownWrites++
    return added
  }
}
