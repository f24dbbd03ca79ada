import { reenqueueActiveRuns, type World } from '@workflow/world'
import { deliveryAuthorization } from '../wire/credentials.js'

export interface DeliverySecretOptions {
  /**
   * Re-queue the active runs in `start()` through the signed queue. For a World whose own
   * start-up recovery is turned off (world-local's `recoverActiveRuns: false`): its recovery
   * calls its inner queue, which this wrapper cannot reach, so those deliveries would go unsigned.
   */
  recoverActiveRuns?: boolean
}

/**
 * The World with every queue message it delivers carrying `Authorization: Bearer <secret>`:
 * world-local and world-postgres send `opts.headers` with each delivery, so a runtime
 * elsewhere (the client's `createQueueHandler`) can tell the worker's
 * deliveries from anyone else's. Every other member is the World's own.
 */
export function withDeliverySecret (world: World, secret: string, options: DeliverySecretOptions = {}): World {
  if (secret === '') throw new TypeError('withDeliverySecret: the secret is empty')
  const authorization = deliveryAuthorization(secret)
  const queue: World['queue'] = async (queueName, message, opts) =>
    // Last, so a lane caller's opts.headers cannot replace it.
    await world.queue(queueName, message, { ...opts, headers: { ...opts?.headers, authorization } })
  const start = async (): Promise<void> => {
    await world.start?.()
    await reenqueueActiveRuns(world.runs, queue, 'compute-worker')
  }
  return new Proxy(world, {
    get (target, property) {
      if (property === 'queue') return queue
      if (property === 'start' && options.recoverActiveRuns === true) return start
      return Reflect.get(target, property, target)
    }
  })
}
