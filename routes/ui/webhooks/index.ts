import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AuditPage } from '../../../lib/schemas/audit.js'
import { webhooksPage } from '../../../lib/ui/views/audit.js'

/** Provider deliveries are the audit log's `webhook.receive` rows: one per delivery, with its outcome. */
const webhooks: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    schema: { querystring: Type.Object({ cursor: Type.Optional(Type.String({ maxLength: 2048 })) }) }
  }, async (request, reply) => {
    const cursor = request.query.cursor === '' ? undefined : request.query.cursor
    const deliveries: AuditPage = await request.readApi(`/v1/audit?action=webhook.receive${cursor !== undefined ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    return reply.sendHtml(webhooksPage(request.uiContext(), { deliveries, cursor }))
  })
}

export default webhooks
