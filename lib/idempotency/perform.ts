import { DomainError } from '../errors.js'
import type { IdempotencyId, IdempotencyStore } from './store.js'

/** What the work of an idempotent request is handed. */
export interface Claim<Plan> {
  /** Fixed when the key was first recorded (the run id): the work must use exactly this. */
  reference: string
  /** The plan an earlier, interrupted attempt committed; the work must follow it. */
  plan: Plan | undefined
  takeover: boolean
  /**
   * Records the plan before the first side effect. From then on a failure keeps the record
   * (a retry takes it over and finishes the same reference) instead of forgetting the key.
   */
  commitPlan: (plan: Plan) => Promise<void>
}

export interface WorkResult<Body> {
  status: number
  body: Body
}

export interface IdempotentOutcome<Body> extends WorkResult<Body> {
  /** True when this is the stored answer of an earlier request. */
  replayed: boolean
}

export interface PerformOptions {
  id: IdempotencyId
  fingerprint: string
  newReference: () => string
  /** How long a duplicate waits for the in-flight original before 409 `idempotency_in_progress`. */
  waitMs: number
  /** How long a new record is kept; default: the store's retention. */
  retentionMs?: number
}

export interface PlannedOptions<Plan> {
  /**
   * Resolves the work's plan before the reservation, so that a new record carries it in its first
   * write (one write fewer than `commitPlan`). It must have no side effect; when it fails, the
   * work runs without it (and resolves, or fails, itself), so a replay is still answered.
   */
  plan?: () => Promise<Plan>
}

export type Work<Body, Plan> = (claim: Claim<Plan>) => Promise<WorkResult<Body>>

/** `performIdempotently` on the worker's one store, with its one wait. */
export type Idempotently = <Body, Plan = unknown>(options: Omit<PerformOptions, 'waitMs'> & PlannedOptions<Plan>, work: Work<Body, Plan>) => Promise<IdempotentOutcome<Body>>

/**
 * Runs `work` at most once per idempotency id: replays a completed answer, refuses another
 * payload under the same key (409 `idempotency_conflict`), and lets a concurrent duplicate wait
 * for the original's answer (up to `waitMs`, then 409 `idempotency_in_progress`). Only 2xx
 * answers are recorded; a failure before `commitPlan` forgets the key so it can be retried.
 */
export async function performIdempotently<Body, Plan = unknown> (
  store: IdempotencyStore,
  options: PerformOptions & PlannedOptions<Plan>,
  work: Work<Body, Plan>
): Promise<IdempotentOutcome<Body>> {
  const { id, fingerprint } = options
  const deadline = Date.now() + options.waitMs
  const plan = options.plan === undefined ? undefined : await options.plan().catch(() => undefined)
  for (;;) {
    const reservation = await store.reserve(id, fingerprint, options.newReference(), options.retentionMs, plan)
    if (reservation.kind === 'completed') {
      return { status: reservation.status, body: JSON.parse(reservation.bodyJson) as Body, replayed: true }
    }
    if (reservation.kind === 'conflict') {
      throw new DomainError('idempotency_conflict', 'This Idempotency-Key was already used with a different payload')
    }
    if (reservation.kind === 'in_progress') {
      const now = Date.now()
      if (now >= deadline) {
        const retryAfter = Math.max(1, Math.ceil((reservation.leaseUntil - now) / 1000))
        throw new DomainError('idempotency_in_progress', 'A request with this Idempotency-Key is still being processed; retry shortly',
          { retryAfter })
      }
      await store.waitForChange(id, Math.min(deadline, reservation.leaseUntil) - now)
      continue
    }

    const { lease } = reservation
    let committed = reservation.plan !== undefined
    const claim: Claim<Plan> = {
      reference: reservation.reference,
      plan: reservation.plan as Plan | undefined,
      takeover: reservation.takeover,
      async commitPlan (plan) {
        if (!await store.savePlan(id, lease, plan)) {
          throw new DomainError('idempotency_in_progress', 'Another request took this Idempotency-Key over; retry shortly',
            { retryAfter: 1 })
        }
        committed = true
      }
    }
    let result: WorkResult<Body>
    try {
      result = await work(claim)
    } catch (error) {
      if (committed) await store.abandon(id, lease)
      else await store.release(id, lease)
      throw error
    }
    if (result.status >= 200 && result.status < 300) {
      await store.complete(id, lease, result.status, JSON.stringify(result.body))
    } else if (committed) {
      await store.abandon(id, lease)
    } else {
      await store.release(id, lease)
    }
    return { ...result, replayed: false }
  }
}
