import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AuditPage } from '../../../lib/schemas/audit.js'
import { auditPage } from '../../../lib/ui/views/audit.js'

const Text = Type.Optional(Type.String({ maxLength: 2048 }))
const FILTERS = ['correlationId', 'actorKeyId', 'action', 'cursor'] as const

const audit: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    schema: { querystring: Type.Object({ correlationId: Text, actorKeyId: Text, action: Text, cursor: Text }) }
  }, async (request, reply) => {
    const params = new URLSearchParams()
    for (const name of FILTERS) {
      const value = request.query[name]?.trim()
      if (value !== undefined && value !== '') params.set(name, value)
    }
    const page: AuditPage = await request.readApi(`/v1/audit?${params.toString()}`)
    return reply.sendHtml(auditPage(request.uiContext(), { audit: page, query: Object.fromEntries(params) }))
  })
}

export default audit
