import type { IdempotencyId } from './control-plane.js'

/**
 * The duplicates of an idempotent request waiting, in this process, for its original to settle.
 * Every backend wakes them when this process settles a claim; a shared backend also wakes them
 * when another process does.
 */
export class SettleWaiters {
  readonly #waiters = new Map<string, Set<() => void>>()

  async wait (id: IdempotencyId, timeoutMs: number): Promise<void> {
    const name = waiterName(id)
    await new Promise<void>((resolve) => {
      let waiters = this.#waiters.get(name)
      if (waiters === undefined) this.#waiters.set(name, waiters = new Set())
      const done = (): void => {
        clearTimeout(timer)
        waiters.delete(done)
        if (waiters.size === 0 && this.#waiters.get(name) === waiters) this.#waiters.delete(name)
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, timeoutMs))
      waiters.add(done)
    })
  }

  /** Whether anyone in this process waits on the record named so. */
  has (name: string): boolean {
    return this.#waiters.has(name)
  }

  wake (id: IdempotencyId): void {
    this.wakeNamed(waiterName(id))
  }

  wakeNamed (name: string): void {
    const waiters = this.#waiters.get(name)
    if (waiters !== undefined) for (const wake of [...waiters]) wake()
  }
}

/** One string per record, the same in every process. */
export function waiterName (id: IdempotencyId): string {
  return JSON.stringify([id.owner, id.scope, id.key])
}
