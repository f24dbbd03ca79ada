import type { World } from '@workflow/world'
import type { DeliveryKind, DeliveryMeta, DeliveryResult } from './protocol.js'

export type QueueMessageHandler = (message: unknown, meta: DeliveryMeta) => Promise<DeliveryResult | void>

export interface ForwardingWorldOptions {
  deploymentId: string
  /** Members present on the main thread's World, by path (`events.create`). */
  methods: readonly string[]
  specVersion: number | undefined
  streamFlushIntervalMs: number | undefined
  /** Sends one World call to the main thread. */
  call: (method: string, args: unknown[]) => Promise<unknown>
  /** Told about every `createQueueHandler(prefix, handler)` the bundles make at import time. */
  onQueueHandler: (kind: DeliveryKind, handler: QueueMessageHandler) => void
}

/**
 * The World a deployment's runtime sees inside its thread: every storage, queue and stream call
 * goes to the worker's one World in the main thread. `getDeploymentId()` answers this
 * deployment's id, so a `start()` made from a step without a deploymentId stays on it.
 */
export function createForwardingWorld (options: ForwardingWorldOptions): World {
  const world: Record<string, unknown> = {
    specVersion: options.specVersion,
    getDeploymentId: async () => options.deploymentId,
    createQueueHandler (prefix: string, handler: QueueMessageHandler) {
      const kind = /wkf_workflow_$/.test(prefix) ? 'workflow' : 'step'
      options.onQueueHandler(kind, handler)
      return async (request: Request) => await localQueueHandler(prefix, handler, request)
    }
  }
  if (options.streamFlushIntervalMs !== undefined) world.streamFlushIntervalMs = options.streamFlushIntervalMs

  for (const path of options.methods) {
    const [head, member] = path.split('.')
    const target = member === undefined ? world : (world[head] ??= {}) as Record<string, unknown>
    const forward = async (...args: unknown[]) => await options.call(path, await settle(path, args))
    target[member ?? head] = forward
  }
  return world as unknown as World
}

// Stream writes may pass the run id as a promise (world-local awaits it): settle before cloning.
// getEncryptionKeyForRun(runId, context) gets `{ ...startOptions }`, which may hold the World
// itself (@workflow/core 4.8.9's runtime/start.js passes `{ ...opts, deploymentId }`); only the
// deployment id matters, so only it is copied (docs/world-lane.md, "Encryption keys").
async function settle (path: string, args: unknown[]): Promise<unknown[]> {
  const settled = args.some(isThenable) ? await Promise.all(args) : args
  if (path === 'getEncryptionKeyForRun' && typeof settled[0] === 'string') {
    const context = settled[1] as { deploymentId?: unknown } | undefined
    return [settled[0], { deploymentId: context?.deploymentId }]
  }
  return settled
}

function isThenable (value: unknown): boolean {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

// The Request form of a queue handler, used only if something calls a bundle's POST export
// directly (the executor calls the captured handler): world-local's own decoder, not a second one.
let localWorld: Promise<World> | undefined
async function localQueueHandler (prefix: string, handler: QueueMessageHandler, request: Request): Promise<Response> {
  localWorld ??= import('@workflow/world-local').then(({ createLocalWorld }) => createLocalWorld({ dataDir: undefined }))
  const decode = (await localWorld).createQueueHandler(prefix as never, handler as never)
  return await decode(request)
}
