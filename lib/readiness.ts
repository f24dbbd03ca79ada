import type { ComputeExecutor } from './compute/types.js'
import type { SqliteDatabase } from './store/database.js'
import type { WorldProbe, WorldStatus } from './world/probe.js'

export interface CheckStatus {
  status: 'ok' | 'unavailable'
  error?: string
  checkedAt: string
}

export interface ComputeStatus {
  status: 'ok' | 'unavailable' | 'none'
  kind?: string
  error?: string
  detail?: Record<string, unknown>
}

export interface Readiness {
  ready: boolean
  world: WorldStatus
  database: CheckStatus
  compute: ComputeStatus
}

const FRESH_MS = 1_000

/**
 * Whether the control-plane database takes writes: one committed upsert of a one-row table (a read
 * would pass on a read-only or full disk). Reused for a second: the route is public and not rate
 * limited, so callers cannot turn it into a write load.
 */
export function createDatabaseWriteProbe (db: SqliteDatabase): () => CheckStatus {
  let last: { at: number, status: CheckStatus } | undefined
  let statement: ReturnType<SqliteDatabase['prepare']> | undefined
  return function probeDatabaseWrite () {
    const now = Date.now()
    if (last !== undefined && now - last.at < FRESH_MS) return last.status
    let status: CheckStatus
    try {
      statement ??= db.prepare(`INSERT INTO health_probe (singleton, checked_at) VALUES (1, ?)
        ON CONFLICT (singleton) DO UPDATE SET checked_at = excluded.checked_at`)
      statement.run(now)
      status = { status: 'ok', checkedAt: new Date(now).toISOString() }
    } catch (error) {
      status = { status: 'unavailable', error: (error as Error).message, checkedAt: new Date(now).toISOString() }
    }
    last = { at: now, status }
    return status
  }
}

/**
 * The executor's own account (`health()`): not ready when it says `ready: false` or throws.
 * A worker without an executor has nothing to wait for.
 */
async function computeStatus (compute: ComputeExecutor | undefined): Promise<ComputeStatus> {
  if (compute === undefined) return { status: 'none' }
  if (typeof compute.health !== 'function') return { status: 'ok', kind: compute.kind }
  try {
    const detail = await compute.health()
    if (detail?.ready !== false) return { status: 'ok', kind: compute.kind, detail }
    const reason = typeof detail.reason === 'string' ? { error: detail.reason } : {}
    return { status: 'unavailable', kind: compute.kind, ...reason, detail }
  } catch (error) {
    return { status: 'unavailable', kind: compute.kind, error: (error as Error)?.message ?? String(error) }
  }
}

export async function checkReadiness (input: {
  probeWorld: WorldProbe
  probeDatabase: () => CheckStatus
  compute: ComputeExecutor | undefined
}): Promise<Readiness> {
  const [world, compute] = await Promise.all([input.probeWorld(), computeStatus(input.compute)])
  const database = input.probeDatabase()
  return {
    ready: world.status === 'ok' && database.status === 'ok' && compute.status !== 'unavailable',
    world,
    database,
    compute
  }
}

/** A sentence naming what is not ready. */
export function notReadyMessage (readiness: Readiness): string {
  const parts = [
    readiness.world.status !== 'ok' ? `the World is unavailable (${readiness.world.error ?? 'no answer'})` : undefined,
    readiness.database.status !== 'ok' ? `the database does not take writes (${readiness.database.error ?? 'unknown'})` : undefined,
    readiness.compute.status === 'unavailable' ? `the executor is not ready${readiness.compute.error ? ` (${readiness.compute.error})` : ''}` : undefined
  ].filter(Boolean)
  return `Not ready: ${parts.join('; ')}`
}
