import type { World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import { withDeliverySecret } from './signed-deliveries.js'
import { requireWorldModule } from './module.js'
import { POSTGRES_WORLD, createPostgresWorld, postgresSettingsFromEnv, type PostgresWorldSettings } from './postgres.js'

export interface WorldTargetSettings {
  /** `local`, `@workflow/world-postgres`, or any module exporting `createWorld`/a default factory. */
  target: string
  /** world-local's data directory. */
  localDataDir?: string
  /** world-local's delivery base URL (where an external runtime listens), when compute is elsewhere. */
  localBaseUrl?: string
  /** world-postgres's settings; read from `WORKFLOW_POSTGRES_*` when omitted. */
  postgres?: PostgresWorldSettings
  /** Errors of idle World database connections, which the World replaces on its own. */
  onConnectionError?: (error: Error) => void
  /** Sent as `Authorization: Bearer` with every queue delivery (`COMPUTE_WORKER_DELIVERY_SECRET`). */
  deliverySecret?: string
}

/** world-local's own reading of WORKFLOW_LOCAL_RECOVER_ACTIVE_RUNS (config.js): only 0/false turn it off. */
function localRecoveryWanted (): boolean {
  const raw = process.env.WORKFLOW_LOCAL_RECOVER_ACTIVE_RUNS?.toLowerCase()
  return raw !== '0' && raw !== 'false'
}

/**
 * Builds the World the standalone server runs on, the way the SDK's own `createWorld()` picks
 * one from `WORKFLOW_TARGET_WORLD`: `local` is embedded; a module is required from the current
 * directory first (where the user installed it), then from the worker's own dependencies.
 */
export function createWorldForTarget (settings: WorldTargetSettings): World {
  const secret = settings.deliverySecret === '' ? undefined : settings.deliverySecret
  if (settings.target === 'local') {
    if (secret === undefined) return createLocalWorld({ dataDir: settings.localDataDir, baseUrl: settings.localBaseUrl })
    // world-local re-queues active runs at start through its inner queue, unsigned: the wrapper does it instead.
    const world = createLocalWorld({ dataDir: settings.localDataDir, baseUrl: settings.localBaseUrl, recoverActiveRuns: false })
    return withDeliverySecret(world, secret, { recoverActiveRuns: localRecoveryWanted() })
  }
  // world-postgres 4.3.7 cannot turn its start-up recovery off: those re-queued runs go unsigned.
  const world = createTargetWorld(settings)
  return secret === undefined ? world : withDeliverySecret(world, secret)
}

function createTargetWorld (settings: WorldTargetSettings): World {
  if (settings.target === POSTGRES_WORLD) {
    return createPostgresWorld(settings.postgres ?? postgresSettingsFromEnv(process.env), settings.onConnectionError)
  }
  const mod = requireWorldModule(settings.target) as Record<string, unknown> | ((...args: unknown[]) => World)
  const factory = typeof mod === 'function'
    ? mod
    : typeof mod.createWorld === 'function'
      ? mod.createWorld
      : typeof mod.default === 'function' ? mod.default : undefined
  if (typeof factory !== 'function') {
    throw new Error(`World module ${settings.target} exports neither createWorld nor a default factory`)
  }
  return (factory as () => World)()
}
