import type { FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { DomainError } from '../lib/errors.js'
import { fingerprintOf, IDEMPOTENT_REPLAYED_HEADER, IDEMPOTENCY_KEY_HEADER, readIdempotencyKey } from '../lib/idempotency/fingerprint.js'
import { performIdempotently, type Idempotently, type PlannedOptions, type Work } from '../lib/idempotency/perform.js'
import { purgeIntervalFor, schedulePurge } from '../lib/idempotency/purge.js'
import { IdempotencyStore } from '../lib/idempotency/store.js'

export interface RouteIdempotency {
  /** Names the operation: a key used on another operation is another record. */
  scope: string
  /** Mints the reference fixed in a new record (the run id for triggers). */
  newReference: () => string
}

declare module 'fastify' {
  interface FastifyInstance {
    idempotencyStore: IdempotencyStore
    /**
     * The worker's one idempotency ledger: runs work at most once per (owner, scope, key) and
     * answers duplicates from the record. Routes use it through `reply.idempotent()`; provider
     * webhooks call it with their provider and delivery id.
     */
    idempotently: Idempotently
  }
  interface FastifyContextConfig {
    /** Makes `Idempotency-Key` required on the route and enables `reply.idempotent()`. */
    idempotency?: RouteIdempotency
  }
  interface FastifyRequest {
    /** The route's validated Idempotency-Key (routes with `config.idempotency`). */
    idempotencyKey: string
  }
  interface FastifyReply {
    /**
     * Runs `work` once per (API key, route scope, Idempotency-Key, canonical body): replays a
     * completed answer with `idempotent-replayed: true`, and answers 409 for another payload or
     * an original still in flight. Sets the status; returns the body to send.
     */
    idempotent<Body, Plan = unknown> (work: Work<Body, Plan>, options?: PlannedOptions<Plan>): Promise<Body>
  }
}

export interface IdempotencyPluginOptions {
  retentionHours: number
  /** How long a duplicate waits for the original before 409 `idempotency_in_progress`. */
  waitMs?: number
}

const DEFAULT_WAIT_MS = 5_000

export default fp<IdempotencyPluginOptions>(async function idempotencyPlugin (fastify, opts) {
  const retentionMs = opts.retentionHours * 3_600_000
  const waitMs = opts.waitMs ?? DEFAULT_WAIT_MS
  const store = new IdempotencyStore(fastify.controlPlane.idempotency, { retentionMs })
  const idempotently: Idempotently = async (options, work) => await performIdempotently(store, { ...options, waitMs }, work)
  fastify.decorate('idempotencyStore', store)
  fastify.decorate('idempotently', idempotently)
  fastify.decorateRequest('idempotencyKey', '')

  // Nothing of this process can hold a lease yet: a retry after a crash takes its record over at once.
  const released = await store.expireAllLeases()
  if (released > 0) fastify.log.info({ released }, 'idempotency: claims left in progress by a previous run can be taken over')
  const purge = schedulePurge(store, purgeIntervalFor(retentionMs), (purged, error) => {
    if (error !== undefined) fastify.log.warn({ err: error }, 'idempotency: purge failed')
    else if (purged > 0) fastify.log.info({ purged }, 'idempotency: expired records purged')
  })
  fastify.addHook('onClose', async () => { purge.stop() })

  // Before body validation: a missing key is the first thing a caller must be told.
  fastify.addHook('preValidation', (request, _reply, done) => {
    if (request.routeOptions.config?.idempotency === undefined) return done()
    try {
      request.idempotencyKey = readIdempotencyKey(request.headers[IDEMPOTENCY_KEY_HEADER])
    } catch (error) {
      return done(error as Error)
    }
    done()
  })

  fastify.decorateReply('idempotent', async function idempotent<Body, Plan> (this: FastifyReply, work: Work<Body, Plan>, options: PlannedOptions<Plan> = {}): Promise<Body> {
    const { request } = this
    const config = request.routeOptions.config?.idempotency
    if (config === undefined || request.callerKey === null) {
      throw new DomainError('internal_error', 'reply.idempotent() used on a route without config.idempotency')
    }
    const outcome = await idempotently<Body, Plan>({
      id: { owner: request.callerKey.id, scope: config.scope, key: request.idempotencyKey },
      fingerprint: fingerprintOf(request.body),
      newReference: config.newReference,
      ...options
    }, work)
    this.code(outcome.status)
    if (outcome.replayed) this.header(IDEMPOTENT_REPLAYED_HEADER, 'true')
    return outcome.body
  })
}, { name: 'compute-worker-idempotency', fastify: '5.x', dependencies: ['compute-worker-storage', 'compute-worker-auth'] })
