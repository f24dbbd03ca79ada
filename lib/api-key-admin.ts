import { DEFAULTS } from './options.js'
import { SCOPES, isScope, type Scope } from './scopes.js'
import { ApiKeyStore, type ApiKeyRecord } from './store/api-keys.js'
import { withControlPlane } from './store/index.js'

/** Bad input to a key operation (unknown scope, bad limit, unknown id …). */
export class ApiKeyAdminError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ApiKeyAdminError'
  }
}

export interface ControlPlaneLocation {
  /** The control-plane SQLite file the server uses (`COMPUTE_WORKER_SQLITE_PATH`). */
  sqlitePath?: string
  /** The control plane's PostgreSQL URL, when the server keeps it there (`COMPUTE_WORKER_DATABASE_URL`). */
  database?: string
}

export interface CreateApiKeyInput extends ControlPlaneLocation {
  scopes: readonly string[]
  name?: string
  rateLimitPerMinute?: number
}

export interface CreatedApiKey {
  /** The key in clear: shown this once, stored only as a hash. */
  key: string
  record: ApiKeyRecord
}

async function withStore<T> (location: ControlPlaneLocation, use: (store: ApiKeyStore) => Promise<T>): Promise<T> {
  return await withControlPlane({
    sqlitePath: location.sqlitePath ?? DEFAULTS.sqlitePath,
    database: location.database,
    // Key commands touch no deployment files.
    artifactDir: DEFAULTS.artifactDir
  }, async (controlPlane) => await use(new ApiKeyStore(controlPlane.apiKeys)))
}

function validScopes (scopes: readonly string[]): Scope[] {
  if (!Array.isArray(scopes) || scopes.length === 0) {
    throw new ApiKeyAdminError(`at least one scope is required (${SCOPES.join(', ')})`)
  }
  const unknown = scopes.filter((scope) => !isScope(scope))
  if (unknown.length > 0) {
    throw new ApiKeyAdminError(`unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.map((s) => `"${s}"`).join(', ')}; known scopes: ${SCOPES.join(', ')}`)
  }
  return [...new Set(scopes as Scope[])]
}

/**
 * Creates an API key in the control-plane database. A running worker on the same database accepts
 * it on its next request. The returned key is the only copy in clear.
 */
export async function createApiKey (input: CreateApiKeyInput): Promise<CreatedApiKey> {
  const scopes = validScopes(input.scopes)
  const { name, rateLimitPerMinute } = input
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > 200)) {
    throw new ApiKeyAdminError('the name must be 1 to 200 characters')
  }
  if (rateLimitPerMinute !== undefined && (!Number.isInteger(rateLimitPerMinute) || rateLimitPerMinute < 1)) {
    throw new ApiKeyAdminError(`the rate limit must be a positive integer of requests per minute, got ${String(rateLimitPerMinute)}`)
  }
  return await withStore(input, async (store) => await store.create({ scopes, name: name?.trim(), rateLimitPerMinute }, 'cli'))
}

/** Every key, revoked ones included, oldest first. Never the key or its hash. */
export async function listApiKeys (location: ControlPlaneLocation = {}): Promise<ApiKeyRecord[]> {
  return await withStore(location, async (store) => await store.list())
}

export interface RevokedApiKey {
  record: ApiKeyRecord
  /** False when the key had been revoked before this call (nothing changed). */
  revokedNow: boolean
}

/** Revokes a key by id; a running worker on the same database refuses it from its next request on. */
export async function revokeApiKey (input: ControlPlaneLocation & { id: string }): Promise<RevokedApiKey> {
  return await withStore(input, async (store) => {
    const revokedNow = await store.revoke(input.id)
    const record = await store.get(input.id)
    if (record === undefined) throw new ApiKeyAdminError(`no API key with id "${input.id}" (see: compute-worker keys list)`)
    return { record, revokedNow }
  })
}
