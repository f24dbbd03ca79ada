import { randomBytes, timingSafeEqual } from 'node:crypto'
import { generateApiKey, hashApiKey } from '../api-key-format.js'
import type { Scope } from '../scopes.js'
import type { SqliteDatabase } from './database.js'

export interface ApiKeyIdentity {
  id: string
  name: string | null
  scopes: Scope[]
  rateLimitPerMinute: number | null
}

export interface ApiKeyRecord extends ApiKeyIdentity {
  source: 'seed' | 'cli' | 'api'
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

export interface NewApiKey {
  scopes: Scope[]
  name?: string
  rateLimitPerMinute?: number
}

interface ApiKeyRow {
  id: string
  key_hash: Buffer
  name: string | null
  scopes_json: string
  rate_limit_per_minute: number | null
  source: 'seed' | 'cli' | 'api'
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
}

const LAST_USED_WRITE_INTERVAL_MS = 60_000

function newKeyId (): string {
  return 'key_' + randomBytes(12).toString('base64url')
}

function toIdentity (row: ApiKeyRow): ApiKeyIdentity {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes_json),
    rateLimitPerMinute: row.rate_limit_per_minute
  }
}

function toIso (ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

/** API keys, stored only as SHA-256 hashes. */
export class ApiKeyStore {
  readonly #db: SqliteDatabase
  readonly #byHash
  readonly #liveById
  readonly #insert
  readonly #updateSeed
  readonly #touch
  readonly #list
  readonly #revoke
  readonly #lastWritten = new Map<string, number>()

  constructor (db: SqliteDatabase) {
    this.#db = db
    this.#byHash = db.prepare<[Buffer], ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL')
    this.#liveById = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ? AND revoked_at IS NULL')
    this.#insert = db.prepare(`INSERT INTO api_keys (id, key_hash, name, scopes_json, rate_limit_per_minute, source, created_at)
      VALUES (@id, @keyHash, @name, @scopesJson, @rateLimit, @source, @createdAt)`)
    this.#updateSeed = db.prepare(`UPDATE api_keys SET name = @name, scopes_json = @scopesJson, rate_limit_per_minute = @rateLimit
      WHERE key_hash = @keyHash`)
    this.#touch = db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?')
    this.#list = db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id')
    this.#revoke = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
  }

  /** The live key matching `key`, or undefined. The hash comparison is constant-time. */
  authenticate (key: string): ApiKeyIdentity | undefined {
    const hash = hashApiKey(key)
    const row = this.#byHash.get(hash)
    if (row === undefined || !timingSafeEqual(row.key_hash, hash)) return undefined
    this.#recordUse(row.id)
    return toIdentity(row)
  }

  /** The key with this id while it is not revoked (a session made from it lives no longer). */
  getLive (id: string): ApiKeyIdentity | undefined {
    const row = this.#liveById.get(id)
    return row === undefined ? undefined : toIdentity(row)
  }

  /** Inserts each seed key once; a key already present takes the configured scopes, name and limit. */
  seed (keys: ReadonlyArray<{ key: string, scopes: Scope[], name?: string, rateLimitPerMinute?: number }>): void {
    const now = Date.now()
    this.#db.transaction(() => {
      for (const seed of keys) {
        const params = {
          keyHash: hashApiKey(seed.key),
          name: seed.name ?? null,
          scopesJson: JSON.stringify(seed.scopes),
          rateLimit: seed.rateLimitPerMinute ?? null
        }
        if (this.#updateSeed.run(params).changes === 0) {
          this.#insert.run({ ...params, id: newKeyId(), source: 'seed', createdAt: now })
        }
      }
    }).immediate()
  }

  /** Creates a key and returns it in clear, the only time it is ever visible. */
  create (input: NewApiKey, source: 'cli' | 'api' = 'cli'): { key: string, record: ApiKeyRecord } {
    const key = generateApiKey()
    const id = newKeyId()
    const createdAt = Date.now()
    this.#insert.run({
      id,
      keyHash: hashApiKey(key),
      name: input.name ?? null,
      scopesJson: JSON.stringify([...new Set(input.scopes)]),
      rateLimit: input.rateLimitPerMinute ?? null,
      source,
      createdAt
    })
    const record = this.list().find((r) => r.id === id)
    if (record === undefined) throw new Error(`key ${id} vanished after insert`)
    return { key, record }
  }

  list (): ApiKeyRecord[] {
    return this.#list.all().map((row) => ({
      ...toIdentity(row),
      source: row.source,
      createdAt: new Date(row.created_at).toISOString(),
      lastUsedAt: toIso(row.last_used_at),
      revokedAt: toIso(row.revoked_at)
    }))
  }

  /** Revokes a key; true when it was live. Takes effect on the next request (no cache). */
  revoke (id: string): boolean {
    return this.#revoke.run(Date.now(), id).changes > 0
  }

  // last_used_at is advisory: one write per key per minute keeps it off the hot path.
  #recordUse (id: string): void {
    const now = Date.now()
    const last = this.#lastWritten.get(id)
    if (last !== undefined && now - last < LAST_USED_WRITE_INTERVAL_MS) return
    this.#lastWritten.set(id, now)
    try {
      this.#touch.run(now, id)
    } catch {
      // A busy or read-only database must not fail an authenticated request.
    }
  }
}
