import { randomBytes, timingSafeEqual } from 'node:crypto'
import { generateApiKey, hashApiKey } from '../api-key-format.js'
import type { Scope } from '../scopes.js'
import type { ApiKeyRow, ApiKeySource, ApiKeyTable } from './control-plane.js'

export interface ApiKeyIdentity {
  id: string
  name: string | null
  scopes: Scope[]
  rateLimitPerMinute: number | null
}

export interface ApiKeyRecord extends ApiKeyIdentity {
  source: ApiKeySource
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

export interface NewApiKey {
  scopes: Scope[]
  name?: string
  rateLimitPerMinute?: number
}

const LAST_USED_WRITE_INTERVAL_MS = 60_000
// Live keys held by the cache at most; past that it starts afresh (a worker has a few keys).
const CACHED_KEYS_MAX = 1_000
// A cached key is read again after this long whatever the token says: the bound on a change
// missed by a notification connection that died without the worker noticing.
const CACHED_KEY_TTL_MS = 1_000

interface CachedKey {
  row: ApiKeyRow
  /** Shared by every request the entry serves: frozen. */
  identity: ApiKeyIdentity
  readAt: number
}

function newKeyId (): string {
  return 'key_' + randomBytes(12).toString('base64url')
}

function toIdentity (row: ApiKeyRow): ApiKeyIdentity {
  return { id: row.id, name: row.name, scopes: row.scopes, rateLimitPerMinute: row.rateLimitPerMinute }
}

function frozenIdentity (row: ApiKeyRow): ApiKeyIdentity {
  return Object.freeze({ ...toIdentity(row), scopes: Object.freeze([...row.scopes]) as Scope[] })
}

function toRecord (row: ApiKeyRow): ApiKeyRecord {
  return {
    ...toIdentity(row),
    source: row.source,
    createdAt: new Date(row.createdAt).toISOString(),
    lastUsedAt: toIso(row.lastUsedAt),
    revokedAt: toIso(row.revokedAt)
  }
}

function toIso (ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

/**
 * API keys, stored only as SHA-256 hashes. Live keys are cached by hash, exactly: an entry is used
 * only while the table's change token is the one it was read under (SQLite's data_version, a
 * PostgreSQL notification of every key write), so a key revoked by another process (the CLI,
 * another worker) is refused on its next request. Only live keys are cached.
 */
export class ApiKeyStore {
  readonly #table: ApiKeyTable
  readonly #lastWritten = new Map<string, number>()
  readonly #cache = new Map<string, CachedKey>()
  #cachedUnder: string | number | undefined

  constructor (table: ApiKeyTable) {
    this.#table = table
  }

  /**
   * The live key matching `key`, or undefined. A key the cache holds comes back without a
   * promise (the hot path of every request); `await` takes both. The hash comparison is constant-time.
   */
  authenticate (key: string): ApiKeyIdentity | undefined | Promise<ApiKeyIdentity | undefined> {
    const hash = hashApiKey(key)
    const token = this.#table.changeToken()
    if (token === undefined || token !== this.#cachedUnder) {
      this.#cache.clear()
      this.#cachedUnder = token
    }
    const cacheKey = hash.toString('base64')
    const cached = token === undefined ? undefined : this.#cache.get(cacheKey)
    const now = Date.now()
    if (cached !== undefined && now - cached.readAt < CACHED_KEY_TTL_MS) return this.#used(cached, hash)
    return this.#read(hash, cacheKey, token, now)
  }

  async #read (hash: Buffer, cacheKey: string, token: string | number | undefined, now: number): Promise<ApiKeyIdentity | undefined> {
    const row = await this.#table.findLiveByHash(hash)
    if (row === undefined) return undefined
    const entry = { row, identity: frozenIdentity(row), readAt: now }
    // Kept only when nothing changed while it was read (a notification may have arrived meanwhile).
    if (token !== undefined && this.#table.changeToken() === token && this.#cachedUnder === token) {
      if (this.#cache.size >= CACHED_KEYS_MAX) this.#cache.clear()
      this.#cache.set(cacheKey, entry)
    }
    return this.#used(entry, hash)
  }

  #used (entry: CachedKey, hash: Buffer): ApiKeyIdentity | undefined {
    if (!timingSafeEqual(entry.row.keyHash, hash)) return undefined
    this.#recordUse(entry.row.id)
    return entry.identity
  }

  /** The key with this id while it is not revoked (a session made from it lives no longer). */
  async getLive (id: string): Promise<ApiKeyIdentity | undefined> {
    const row = await this.#table.findLiveById(id)
    return row === undefined ? undefined : toIdentity(row)
  }

  /** Inserts each seed key once; a key already present takes the configured scopes, name and limit. */
  async seed (keys: ReadonlyArray<{ key: string, scopes: Scope[], name?: string, rateLimitPerMinute?: number }>): Promise<void> {
    await this.#table.seed(keys.map((seed) => ({
      keyHash: hashApiKey(seed.key),
      newId: newKeyId(),
      name: seed.name ?? null,
      scopes: seed.scopes,
      rateLimitPerMinute: seed.rateLimitPerMinute ?? null
    })), Date.now())
  }

  /** Creates a key and returns it in clear, the only time it is ever visible. */
  async create (input: NewApiKey, source: 'cli' | 'api' = 'cli'): Promise<{ key: string, record: ApiKeyRecord }> {
    const key = generateApiKey()
    const row: ApiKeyRow = {
      id: newKeyId(),
      keyHash: hashApiKey(key),
      name: input.name ?? null,
      scopes: [...new Set(input.scopes)],
      rateLimitPerMinute: input.rateLimitPerMinute ?? null,
      source,
      createdAt: Date.now(),
      lastUsedAt: null,
      revokedAt: null
    }
    await this.#table.insert(row)
    return { key, record: toRecord(row) }
  }

  async list (): Promise<ApiKeyRecord[]> {
    return (await this.#table.list()).map(toRecord)
  }

  async get (id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.#table.get(id)
    return row === undefined ? undefined : toRecord(row)
  }

  /** Revokes a key; true when it was live. Takes effect on the next request, on every worker. */
  async revoke (id: string): Promise<boolean> {
    return await this.#table.revoke(id, Date.now())
  }

  // last_used_at is advisory: one write per key per minute keeps it off the hot path, and it is
  // not awaited: a busy or read-only database must not fail or slow an authenticated request.
  #recordUse (id: string): void {
    const now = Date.now()
    const last = this.#lastWritten.get(id)
    if (last !== undefined && now - last < LAST_USED_WRITE_INTERVAL_MS) return
    this.#lastWritten.set(id, now)
    this.#table.touch(id, now).catch(() => {})
  }
}
