import fp from 'fastify-plugin'
import { IDEMPOTENT_REPLAYED_HEADER } from '../lib/idempotency/fingerprint.js'
import { describeError } from '../http/errors.js'

export interface AuditDetails {
  target?: string
  runId?: string
  metadata?: Record<string, unknown>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The audit action of a mutating route: every request to it writes one audit row. */
    audit?: string
  }
  interface FastifyRequest {
    /** What the handler learnt for the audit row (target, run id, facts). */
    auditDetails: AuditDetails | null
    auditErrorCode: string | null
  }
}

/** 2xx → success (a replay: duplicate), 401/403 → denied, anything else → failure. */
function outcomeOf (statusCode: number, replayed: boolean): string {
  if (statusCode < 400) return replayed ? 'duplicate' : 'success'
  if (statusCode === 401 || statusCode === 403) return 'denied'
  return 'failure'
}

/**
 * One audit row per request to a route with `config.audit`, written when the response is done,
 * so refusals and failures are recorded too. Rate-limited refusals (429) are not: under a flood
 * they would turn every rejected request into a database write.
 */
export default fp(async function mutationAuditPlugin (fastify) {
  fastify.decorateRequest('auditDetails', null)
  fastify.decorateRequest('auditErrorCode', null)

  fastify.addHook('onError', async (request, _reply, error) => {
    request.auditErrorCode = describeError(error).code
  })

  fastify.addHook('onResponse', async (request, reply) => {
    const action = request.routeOptions.config?.audit
    if (action === undefined || reply.statusCode === 429) return
    const details = request.auditDetails ?? {}
    try {
      request.audit({
        action,
        outcome: outcomeOf(reply.statusCode, reply.getHeader(IDEMPOTENT_REPLAYED_HEADER) === 'true'),
        target: details.target ?? null,
        runId: details.runId,
        metadata: {
          ...details.metadata,
          statusCode: reply.statusCode,
          ...(request.auditErrorCode !== null ? { code: request.auditErrorCode } : {})
        }
      })
    } catch (error) {
      request.log.error({ err: error, action }, 'audit row could not be written')
    }
  })
}, { name: 'compute-worker-mutation-audit', fastify: '5.x', dependencies: ['compute-worker-audit'] })
