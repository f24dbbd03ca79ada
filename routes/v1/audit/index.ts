import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AuditPage, AuditQuery } from '../../../lib/schemas/audit.js'
import { AUTHENTICATED_ERRORS, ErrorResponse } from '../../../lib/schemas/common.js'

const audit: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    config: { scope: 'audit:read' },
    schema: {
      tags: ['audit'],
      summary: 'The audit log, newest first, by correlation id, API key and action (provider deliveries: action=webhook.receive)',
      querystring: AuditQuery,
      response: { 200: AuditPage, 400: ErrorResponse, ...AUTHENTICATED_ERRORS }
    }
  }, async (request) => {
    const { limit, cursor, ...filter } = request.query
    return await fastify.auditLog.query(filter, limit, cursor)
  })
}

export default audit
