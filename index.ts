export { createComputeWorker, type ComputeWorkerHandler } from './fetch.js'
export {
  buildComputeWorkerApp,
  createNodeComputeWorkerServer,
  startNodeComputeWorkerServer,
  type StartedComputeWorkerServer
} from './server.js'
export { computeWorkerPlugin, type ComputeWorkerPluginOptions } from './app.js'
export { computeWorkerServerOptions } from './server-options.js'
export type { ComputeWorkerOptions, SeedApiKey, UiOptions } from './lib/options.js'
export { createInProcessCompute, type InProcessComputeOptions } from './lib/compute/index.js'
export type { ComputeExecutor, ComputeContext, DeliveryEndpoint } from './lib/compute/types.js'
export { SCOPES, type Scope } from './lib/scopes.js'
export { startTracing, type WorkerTracing, type WorkerTracingOptions } from './lib/observability/start-tracing.js'
export { createWorldForTarget, type WorldTargetSettings } from './lib/world/create-world.js'
export { withDeliverySecret, type DeliverySecretOptions } from './lib/world/signed-deliveries.js'
export { StrictRemoteGuardError } from './lib/strict-guard.js'
export { generateApiKey, hasValidChecksum } from './lib/api-key-format.js'
export {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  ApiKeyAdminError,
  type CreateApiKeyInput,
  type CreatedApiKey,
  type RevokedApiKey,
  type ControlPlaneLocation
} from './lib/api-key-admin.js'
export type { ApiKeyRecord } from './lib/store/api-keys.js'
export { migratePostgresWorld, WorldSetupError, type PostgresWorldMigration } from './lib/world/postgres.js'
