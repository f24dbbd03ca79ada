import type { SqliteDatabase } from '../store/database.js'

/** Whose record it is: per API key (or provider), per operation, per Idempotency-Key. */
export interface IdempotencyId {
  owner: string
  scope: string
  key: string
}

export type Reservation =
  /** This caller now holds the record's lease and must finish the work for `reference`. */
  | { kind: 'claimed', reference: string, plan: unknown, lease: number, takeover: boolean }
  | { kind: 'completed', reference: string | null, status: number, bodyJson: string }
  | { kind: 'conflict' }
  | { kind: 'in_progress', leaseUntil: number }

interface RecordRow {
  fingerprint: string
  state: 'in_progress' | 'completed'
  run_id: string | null
  response_status: number | null
  response_json: string | null
  lease_until: number | null
  expires_at: number
}

export interface IdempotencyStoreOptions {
  retentionMs: number
  /** How long a claim stays exclusive; a claim not finished by then may be taken over. */
  leaseMs?: number
  now?: () => number
}

const DEFAULT_LEASE_MS = 30_000

/**
 * Idempotency records (`idempotency_records`). The reference (the run id) is written with the
 * first reservation, before any side effect, so whoever finishes the work later, the same
 * process or a retry after a crash, finishes it for that same reference. While in progress,
 * `response_json` holds the work's committed plan; once completed, the response to replay.
 */
export class IdempotencyStore {
  readonly #db: SqliteDatabase
  readonly #retentionMs: number
  readonly #leaseMs: number
  readonly #now: () => number
  readonly #waiters = new Map<string, Set<() => void>>()
  readonly #get
  readonly #insert
  readonly #delete
  readonly #renewLease
  readonly #savePlan
  readonly #complete
  readonly #release
  readonly #abandon
  readonly #expireLeases
  readonly #purge

  constructor (db: SqliteDatabase, options: IdempotencyStoreOptions) {
    this.#db = db
    this.#retentionMs = options.retentionMs
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    this.#now = options.now ?? Date.now
    const where = 'api_key_id = @owner AND scope = @scope AND idempotency_key = @key'
    this.#get = db.prepare<IdempotencyId, RecordRow>(`SELECT fingerprint, state, run_id, response_status, response_json, lease_until, expires_at
      FROM idempotency_records WHERE ${where}`)
    this.#insert = db.prepare(`INSERT INTO idempotency_records
      (api_key_id, scope, idempotency_key, fingerprint, state, run_id, lease_until, created_at, updated_at, expires_at)
      VALUES (@owner, @scope, @key, @fingerprint, 'in_progress', @reference, @lease, @now, @now, @expiresAt)`)
    this.#delete = db.prepare(`DELETE FROM idempotency_records WHERE ${where}`)
    this.#renewLease = db.prepare(`UPDATE idempotency_records SET lease_until = @lease, updated_at = @now WHERE ${where}`)
    const fenced = `${where} AND state = 'in_progress' AND lease_until = @lease`
    this.#savePlan = db.prepare(`UPDATE idempotency_records SET response_json = @planJson, updated_at = @now WHERE ${fenced}`)
    this.#complete = db.prepare(`UPDATE idempotency_records SET state = 'completed', response_status = @status, response_json = @bodyJson,
      lease_until = NULL, updated_at = @now WHERE ${fenced}`)
    this.#release = db.prepare(`DELETE FROM idempotency_records WHERE ${fenced}`)
    this.#abandon = db.prepare(`UPDATE idempotency_records SET lease_until = 0, updated_at = @now WHERE ${fenced}`)
    this.#expireLeases = db.prepare("UPDATE idempotency_records SET lease_until = 0 WHERE state = 'in_progress' AND lease_until > 0")
    this.#purge = db.prepare('DELETE FROM idempotency_records WHERE expires_at <= ?')
  }

  /**
   * The one atomic step of every idempotent request: look the key up and either claim it
   * (inserting `proposedReference`, or taking over an expired lease with its recorded
   * reference), or answer what is already known about it. A new record is kept for
   * `retentionMs` (default: the store's).
   */
  reserve (id: IdempotencyId, fingerprint: string, proposedReference: string, retentionMs = this.#retentionMs): Reservation {
    return this.#db.transaction((): Reservation => {
      const now = this.#now()
      let row = this.#get.get(id)
      if (row !== undefined && row.expires_at <= now) {
        this.#delete.run(id)
        row = undefined
      }
      const lease = now + this.#leaseMs
      if (row === undefined) {
        this.#insert.run({ ...id, fingerprint, reference: proposedReference, lease, now, expiresAt: now + retentionMs })
        return { kind: 'claimed', reference: proposedReference, plan: undefined, lease, takeover: false }
      }
      if (row.fingerprint !== fingerprint) return { kind: 'conflict' }
      if (row.state === 'completed') {
        return { kind: 'completed', reference: row.run_id, status: row.response_status ?? 200, bodyJson: row.response_json ?? 'null' }
      }
      if ((row.lease_until ?? 0) > now) return { kind: 'in_progress', leaseUntil: row.lease_until ?? now }
      // The holder crashed or gave up after committing a plan: carry on with its reference.
      const renewed = Math.max(lease, (row.lease_until ?? 0) + 1)
      this.#renewLease.run({ ...id, lease: renewed, now })
      return {
        kind: 'claimed',
        reference: row.run_id ?? proposedReference,
        plan: row.response_json === null ? undefined : JSON.parse(row.response_json),
        lease: renewed,
        takeover: true
      }
    }).immediate()
  }

  /** Records what the claim is about to do; false when the lease was lost to someone else. */
  savePlan (id: IdempotencyId, lease: number, plan: unknown): boolean {
    return this.#savePlan.run({ ...id, lease, planJson: JSON.stringify(plan), now: this.#now() }).changes === 1
  }

  /** Stores the response to replay; false when the lease was lost (the taker completes it). */
  complete (id: IdempotencyId, lease: number, status: number, bodyJson: string): boolean {
    const done = this.#complete.run({ ...id, lease, status, bodyJson, now: this.#now() }).changes === 1
    this.#notify(id)
    return done
  }

  /** Forgets a claim that had no side effect, so the key can be used afresh. */
  release (id: IdempotencyId, lease: number): void {
    this.#release.run({ ...id, lease })
    this.#notify(id)
  }

  /** Keeps a claim that may have had side effects, free to be taken over by the next retry. */
  abandon (id: IdempotencyId, lease: number): void {
    this.#abandon.run({ ...id, lease, now: this.#now() })
    this.#notify(id)
  }

  /**
   * At start-up no claim of this process can still be running, so every lease is released:
   * a client retrying after a crash takes its record over at once instead of waiting it out.
   */
  expireAllLeases (): number {
    return this.#expireLeases.run().changes
  }

  /** Deletes records past their retention; returns how many. */
  purgeExpired (): number {
    return this.#purge.run(this.#now()).changes
  }

  /** Resolves when a claim on `id` settles in this process, or after `timeoutMs`. */
  async waitForChange (id: IdempotencyId, timeoutMs: number): Promise<void> {
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

  #notify (id: IdempotencyId): void {
    const waiters = this.#waiters.get(waiterName(id))
    if (waiters !== undefined) for (const wake of [...waiters]) wake()
  }
}

function waiterName (id: IdempotencyId): string {
  return JSON.stringify([id.owner, id.scope, id.key])
}
