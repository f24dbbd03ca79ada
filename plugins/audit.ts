import fp from 'fastify-plugin'
import type { AuditEntry } from '../lib/store/audit-log.js'
import { RUN_ID_HEADER } from './correlation.js'

export type RequestAuditEntry = Omit<AuditEntry, 'correlationId' | 'actorKeyId'> & { actorKeyId?: string | null }

declare module 'fastify' {
  interface FastifyRequest {
    /** Writes this request's audit row: actor, correlation id and run id filled in. */
    audit (entry: RequestAuditEntry): void
  }
}

export default fp(async function auditPlugin (fastify) {
  fastify.decorateRequest('audit', function audit (this: import('fastify').FastifyRequest, entry: RequestAuditEntry) {
    const headerRunId = this.headers[RUN_ID_HEADER]
    fastify.auditLog.record({
      ...entry,
      actorKeyId: entry.actorKeyId !== undefined ? entry.actorKeyId : this.callerKey?.id ?? null,
      correlationId: this.correlationId,
      runId: entry.runId ?? (typeof headerRunId === 'string' ? headerRunId : undefined)
    })
  })
}, { name: 'compute-worker-audit', fastify: '5.x', dependencies: ['compute-worker-storage', 'compute-worker-correlation'] })
