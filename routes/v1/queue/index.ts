import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AUTHENTICATED_ERRORS, ErrorResponse } from '../../../lib/schemas/common.js'
import { QueuePublishBody, QueuePublishResponse, WORLD_ERRORS } from '../../../lib/schemas/world.js'
import { LANE_BODY_LIMITS } from '../../../lib/world-proxy/limits.js'

const queue: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/publish', {
    bodyLimit: LANE_BODY_LIMITS.queuePublish,
    config: { audit: { action: 'world.queue.publish', aggregate: true } },
    schema: {
      summary: 'world.queue(queueName, message, opts)',
      description: 'A repeated opts.idempotencyKey is not an error: the World answers with the message already in flight.',
      tags: ['world'],
      body: QueuePublishBody,
      response: { 200: QueuePublishResponse, 413: ErrorResponse, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const { queueName, message, opts } = request.body
    const runId = (message as { runId?: unknown, workflowRunId?: unknown }).runId ?? (message as { workflowRunId?: unknown }).workflowRunId
    request.auditFacts = { kind: queueName.replace(/_wkf_(workflow|step)_.*$/, '_wkf_$1'), runId: typeof runId === 'string' ? runId : undefined }
    return reply.sendWorldValue(await fastify.worldLane.queue(queueName, message, opts, request.correlationId))
  })
}

export default queue
