import type { ComputeExecutor } from './compute/types.js'
import type { ControlPlane } from './store/control-plane.js'
import type { WorldProbe, WorldStatus } from './world/probe.js'

export interface CheckStatus {
  status: 'ok' | 'unavailable'
  /** Which backend holds the control plane (the database check). */
  kind?: 'sqlite' | 'postgres'
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
export function createDatabaseWriteProbe (controlPlane: ControlPlane): () => Promise<CheckStatus> {
  let last: { at: number, status: Promise<CheckStatus> } | undefined
  return async function probeDatabaseWrite () {
    const now = Date.now()
    // The promise is kept, not its result: probes arriving while one is in flight share it.
    if (last !== undefined && now - last.at < FRESH_MS) return await last.status
    const status = controlPlane.probeWrite(now).then(
      (): CheckStatus => ({ status: 'ok', kind: controlPlane.kind, checkedAt: new Date(now).toISOString() }),
      (error: unknown): CheckStatus => ({ status: 'unavailable', kind: controlPlane.kind, error: (error as Error)?.message ?? String(error), checkedAt: new Date(now).toISOString() }))
    last = { at: now, status }
    return await status
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
  probeDatabase: () => Promise<CheckStatus>
  compute: ComputeExecutor | undefined
}): Promise<Readiness> {
  const [world, database, compute] = await Promise.all([input.probeWorld(), input.probeDatabase(), computeStatus(input.compute)])
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
