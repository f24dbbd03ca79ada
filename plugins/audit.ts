import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AuditAggregator, AuditRowSink, type AuditedRequest } from '../lib/audit/sinks.js'
import { IDEMPOTENT_REPLAYED_HEADER, RUN_ID_HEADER } from '../lib/headers.js'
import { describeError, type ErrorDescription } from '../http/errors.js'

/** What a handler learnt for its request's audit entry. */
export interface AuditFacts {
  /** What the request acted on: a workflow, a deployment, a hook, a provider. */
  target?: string
  runId?: string
  /** A finer kind within the action, counted by the aggregated sink. */
  kind?: string
  /** The route's own word for the outcome, instead of the one its status gives. */
  outcome?: string
  metadata?: Record<string, unknown>
  /** The actor a public route established itself (the dashboard's sign-in names the key that signed in). */
  actorKeyId?: string
}

/**
 * The audit action of a route. A string: one audit row per request. `aggregate`: counted into
 * one row per key, action and window instead (the internal lane's World writes).
 */
export type RouteAudit = string | { action: string, aggregate: true }

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every request to the route is audited under this action, refusals and failures included. */
    audit?: RouteAudit
  }
  interface FastifyRequest {
    /** What the handler learnt for the audit entry (target, run id, facts). */
    auditFacts: AuditFacts | null
    /** The error an audited request failed with, as its answer describes it. */
    auditError: ErrorDescription | null
  }
  interface FastifyInstance {
    /** The aggregated sink: rows pending for the current window (`flush()` writes them now). */
    auditAggregator: AuditAggregator
  }
}

export interface AuditPluginOptions {
  /** The window of aggregated rows. */
  aggregateWindowMs?: number
}

/** 2xx → success (a replay: duplicate), 401/403 → denied, anything else → failure. */
function outcomeOf (statusCode: number, replayed: boolean): string {
  if (statusCode < 400) return replayed ? 'duplicate' : 'success'
  if (statusCode === 401 || statusCode === 403) return 'denied'
  return 'failure'
}

function audited (request: FastifyRequest, reply: FastifyReply, action: string): AuditedRequest {
  const facts = request.auditFacts ?? {}
  const header = request.headers[RUN_ID_HEADER]
  const { statusCode } = reply
  return {
    action,
    // A public route has no actor, whatever key the caller sent along, unless it established one.
    actorKeyId: facts.actorKeyId ?? (request.routeOptions.config?.auth === false ? null : request.callerKey?.id ?? null),
    correlationId: request.correlationId,
    statusCode,
    outcome: facts.outcome ?? outcomeOf(statusCode, reply.getHeader(IDEMPOTENT_REPLAYED_HEADER) === 'true'),
    target: facts.target ?? null,
    runId: facts.runId ?? (typeof header === 'string' ? header : undefined),
    kind: facts.kind,
    metadata: { ...facts.metadata, statusCode, ...(request.auditError !== null ? { code: request.auditError.code } : {}) }
  }
}

/**
 * The one audit mechanism: a route declares `config.audit`, its handler puts what it learnt on
 * `request.auditFacts`, and one hook, when the response is done, hands the request to the route's
 * sink: a row each, or the aggregated sink.
 */
export default fp<AuditPluginOptions>(async function auditPlugin (fastify, opts) {
  const rows = new AuditRowSink(fastify.auditLog)
  const aggregator = new AuditAggregator(fastify.auditLog, opts.aggregateWindowMs)
  fastify.decorate('auditAggregator', aggregator)
  fastify.decorateRequest('auditFacts', null)
  fastify.decorateRequest('auditError', null)

  fastify.addHook('onError', (request, _reply, error, done) => {
    if (request.routeOptions.config?.audit !== undefined) request.auditError = describeError(error, { worldLane: request.routeOptions.config.worldLane, errorStatus: request.routeOptions.config.errorStatus })
    done()
  })

  // A callback hook: routes without config.audit (most requests) pay no promise for it.
  fastify.addHook('onResponse', (request, reply, done) => {
    const audit = request.routeOptions.config?.audit
    if (audit === undefined) return done()
    const [action, sink] = typeof audit === 'string' ? [audit, rows] : [audit.action, aggregator]
    Promise.resolve().then(async () => { await sink.record(audited(request, reply, action)) }).catch((error: unknown) => {
      request.log.error({ err: error, action }, 'audit row could not be written')
    }).finally(done)
  })

  fastify.addHook('onClose', async () => { await aggregator.close() })
}, { name: 'compute-worker-audit', fastify: '5.x', dependencies: ['compute-worker-storage', 'compute-worker-correlation', 'compute-worker-auth'] })
