import type { World } from '@workflow/world'
import { DELIVERY_SECRET_ENV } from '../delivery-secret.js'
import { createRemoteWorld } from './remote-world.js'

export { createRemoteWorld, type RemoteWorldOptions } from './remote-world.js'
export {
  ComputeClient,
  type AuditList,
  type AuditQuery,
  type CallOptions,
  type ComputeClientOptions,
  type CreateDeploymentRequest,
  type Deployment,
  type Health,
  type ListRunsQuery,
  type Liveness,
  type PageQuery,
  type Readiness,
  type ResumedHook,
  type Run,
  type RunEventList,
  type RunHookList,
  type RunList,
  type RunStatus,
  type RunStreamValue,
  type RunSummary,
  type TriggeredRun,
  type TriggerRequest
} from './compute-client.js'
export {
  AuthComputeClientError,
  ComputeClientError,
  ConflictComputeClientError,
  IdempotencyComputeClientError,
  NoActiveDeploymentComputeClientError,
  NotFoundComputeClientError,
  RateLimitComputeClientError,
  ServerComputeClientError,
  ValidationComputeClientError
} from './errors.js'

/**
 * The World factory the SDK calls, with no arguments, for
 * `WORKFLOW_TARGET_WORLD=@workflow-studio/compute-worker/client`: the worker's URL and a
 * `world:proxy` key come from `COMPUTE_WORKER_URL` and `COMPUTE_WORKER_API_KEY`, the secret its
 * queue deliveries carry from `COMPUTE_WORKER_DELIVERY_SECRET` (without it every delivery is
 * refused); `COMPUTE_WORKER_WORLD_ENCODING=json` switches the lane to tagged JSON (default CBOR).
 */
export function createWorld (): World {
  const baseUrl = process.env.COMPUTE_WORKER_URL
  const apiKey = process.env.COMPUTE_WORKER_API_KEY
  if (baseUrl === undefined || baseUrl === '' || apiKey === undefined || apiKey === '') {
    throw new Error('@workflow-studio/compute-worker/client needs COMPUTE_WORKER_URL and COMPUTE_WORKER_API_KEY (a key with scope world:proxy)')
  }
  const encoding = process.env.COMPUTE_WORKER_WORLD_ENCODING
  if (encoding !== undefined && encoding !== 'json' && encoding !== 'cbor') {
    throw new Error(`COMPUTE_WORKER_WORLD_ENCODING must be json or cbor, got ${encoding}`)
  }
  return createRemoteWorld({ baseUrl, apiKey, encoding, deliverySecret: process.env[DELIVERY_SECRET_ENV] })
}

export default createWorld
