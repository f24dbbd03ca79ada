import { BoundedMap } from '../bounded.js'
import type { DeliveryResult } from './protocol.js'

/**
 * The attempt number a deployment is shown. The SDK fails a run once a message's attempt passes
 * 48 (MAX_QUEUE_DELIVERIES, @workflow/core 4.8.9 runtime/constants.js), and world-local keeps
 * counting across `{ timeoutSeconds }` redeliveries (sleeps, step retries), so a long enough
 * chain of sleeps would fail a healthy run. Like world-vercel's queue, a redelivery after a
 * `timeoutSeconds` answer counts as a fresh message: attempts restart at 1 from there, and only
 * failed deliveries since then add up. Worlds that already restart the count (world-postgres
 * enqueues a new job) are left as they are.
 */
export class RedeliveryAttempts {
  /** messageId → the queue's attempt number when the deployment last answered timeoutSeconds. */
  private readonly rescheduledAt = new BoundedMap<string, number>(100_000)

  shown (messageId: string, attempt: number): number {
    const base = this.rescheduledAt.get(messageId)
    return base === undefined || attempt <= base ? attempt : attempt - base
  }

  settle (messageId: string, attempt: number, result: DeliveryResult): void {
    if (typeof result?.timeoutSeconds === 'number') this.rescheduledAt.set(messageId, attempt)
    else this.rescheduledAt.delete(messageId)
  }
}
