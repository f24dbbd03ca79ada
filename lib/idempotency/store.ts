import type { IdempotencyId, IdempotencyTable, Reservation } from '../store/control-plane.js'

export type { IdempotencyId, Reservation }

export interface IdempotencyStoreOptions {
  retentionMs: number
  /** How long a claim stays exclusive; a claim not finished by then may be taken over. */
  leaseMs?: number
  now?: () => number
}

const DEFAULT_LEASE_MS = 30_000

/**
 * The idempotency ledger (`idempotency_records`), on whichever backend the control plane is.
 * While in progress, a record's response holds the work's committed plan; once completed, the
 * response to replay. The rules of a reservation are `decideReservation`'s.
 */
export class IdempotencyStore {
  readonly #table: IdempotencyTable
  readonly #retentionMs: number
  readonly #leaseMs: number
  readonly #now: () => number

  constructor (table: IdempotencyTable, options: IdempotencyStoreOptions) {
    this.#table = table
    this.#retentionMs = options.retentionMs
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    this.#now = options.now ?? Date.now
  }

  /**
   * The one atomic step of every idempotent request: look the key up and either claim it
   * (inserting `proposedReference`, or taking over an expired lease with its recorded
   * reference), or answer what is already known about it. A new record is kept for
   * `retentionMs` (default: the store's) and carries `plan` when one is given (no `savePlan`).
   */
  async reserve (id: IdempotencyId, fingerprint: string, proposedReference: string, retentionMs = this.#retentionMs, plan?: unknown): Promise<Reservation> {
    return await this.#table.reserve({
      id,
      fingerprint,
      proposedReference,
      now: this.#now(),
      leaseMs: this.#leaseMs,
      retentionMs,
      ...(plan !== undefined ? { plan: { value: plan, json: JSON.stringify(plan) } } : {})
    })
  }

  /** Records what the claim is about to do; false when the lease was lost to someone else. */
  async savePlan (id: IdempotencyId, lease: number, plan: unknown): Promise<boolean> {
    return await this.#table.savePlan(id, lease, JSON.stringify(plan), this.#now())
  }

  /** Stores the response to replay; false when the lease was lost (the taker completes it). */
  async complete (id: IdempotencyId, lease: number, status: number, bodyJson: string): Promise<boolean> {
    return await this.#table.complete(id, lease, status, bodyJson, this.#now())
  }

  /** Forgets a claim that had no side effect, so the key can be used afresh. */
  async release (id: IdempotencyId, lease: number): Promise<void> {
    await this.#table.release(id, lease)
  }

  /** Keeps a claim that may have had side effects, free to be taken over by the next retry. */
  async abandon (id: IdempotencyId, lease: number): Promise<void> {
    await this.#table.abandon(id, lease, this.#now())
  }

  /**
   * At start-up, the leases no running process can still hold are released: a client retrying
   * after a crash takes its record over at once instead of waiting it out.
   */
  async expireAllLeases (): Promise<number> {
    return await this.#table.releaseLeasesAtStart()
  }

  /** Deletes records past their retention; returns how many. */
  async purgeExpired (): Promise<number> {
    return await this.#table.purgeExpired(this.#now())
  }

  /** Resolves when a claim on `id` settles, or after `timeoutMs`. */
  async waitForChange (id: IdempotencyId, timeoutMs: number): Promise<void> {
    await this.#table.waitForChange(id, timeoutMs)
  }
}
