import type { World } from '@workflow/world'
import { createRemoteWorld } from './remote-world.js'

export { createRemoteWorld, type RemoteWorldOptions } from './remote-world.js'
export {
  ComputeClient,
  type CallOptions,
  type ComputeClientOptions,
  type CreateDeploymentRequest,
  type Deployment,
  type DeploymentFile,
  type HealthStatus,
  type ResumedHook,
  type RunStatus,
  type RunView,
  type TriggeredRun,
  type TriggerRunRequest
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
 * `world:proxy` key come from `COMPUTE_WORKER_URL` and `COMPUTE_WORKER_API_KEY`;
 * `COMPUTE_WORKER_WORLD_ENCODING=json` switches the lane to tagged JSON (default CBOR).
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
  return createRemoteWorld({ baseUrl, apiKey, encoding })
}

export default createWorld
