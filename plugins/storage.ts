import fp from 'fastify-plugin'
import { measureControlPlane } from '../lib/observability/measured-control-plane.js'
import type { SeedApiKey } from '../lib/options.js'
import { ApiKeyStore } from '../lib/store/api-keys.js'
import { AuditLog } from '../lib/store/audit-log.js'
import type { ControlPlane } from '../lib/store/control-plane.js'
import { openControlPlane, type ControlPlaneLocation } from '../lib/store/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The control plane's tables (SQLite or PostgreSQL), migrated. Services take their table from it. */
    controlPlane: ControlPlane
    apiKeys: ApiKeyStore
    auditLog: AuditLog
  }
}

export interface StorageOptions extends ControlPlaneLocation {
  seedApiKeys: SeedApiKey[]
  /** Named on every audit row this worker writes. */
  workerName?: string
}

export default fp<StorageOptions>(async function storagePlugin (fastify, opts) {
  const opened = await openControlPlane(opts)
  const controlPlane = fastify.metrics === undefined ? opened : measureControlPlane(opened, fastify.metrics)
  if (controlPlane.kind === 'postgres') fastify.log.info({ database: controlPlane.location }, 'control plane: PostgreSQL')

  const apiKeys = new ApiKeyStore(controlPlane.apiKeys)
  try {
    await apiKeys.seed(opts.seedApiKeys)
  } catch (error) {
    await controlPlane.close()
    throw error
  }

  fastify.addHook('onClose', async () => { await controlPlane.close() })
  fastify.decorate('controlPlane', controlPlane)
  fastify.decorate('apiKeys', apiKeys)
  fastify.decorate('auditLog', new AuditLog(controlPlane.audit, opts.workerName ?? null))
}, { name: 'compute-worker-storage', fastify: '5.x' })
