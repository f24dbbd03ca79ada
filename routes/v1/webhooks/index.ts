import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorResponse } from '../../../lib/schemas/common.js'
import { DEFAULT_WEBHOOK_BODY_BYTES } from '../../../lib/webhooks/providers.js'
import { isApiError } from '../../../lib/errors.js'

const WebhookAccepted = Type.Object({
  received: Type.Literal(true),
  deliveryId: Type.String(),
  runId: Type.Optional(Type.String())
}, {
  additionalProperties: true,
  examples: [{ received: true, deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958', runId: 'wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F' }]
})

const webhooks: FastifyPluginAsyncTypebox = async (fastify) => {
  const receiver = fastify.webhookReceiver

  // Signatures are over the exact bytes: in this route (and only here) every body stays a Buffer.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

  const bodyLimit = Math.max(DEFAULT_WEBHOOK_BODY_BYTES, ...[...fastify.workerConfig.webhookProviders.values()].map((p) => p.maxBodyBytes))

  fastify.post('/:provider', {
    bodyLimit,
    config: { auth: false },
    schema: {
      summary: 'Receive a provider webhook (GitHub, Stripe, Standard Webhooks); authenticated by its signature',
      tags: ['webhooks'],
      params: Type.Object({ provider: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' }) }),
      response: {
        200: Type.Unknown({ description: 'A repeated delivery: the first answer again' }),
        202: WebhookAccepted,
        400: ErrorResponse,
        401: ErrorResponse,
        404: ErrorResponse,
        409: ErrorResponse,
        413: ErrorResponse,
        429: ErrorResponse
      }
    }
  }, async (request, reply) => {
    const provider = request.params.provider
    const audit = (outcome: string, extra: Record<string, unknown>) => request.audit({
      action: 'webhook.receive',
      target: `webhook:${provider}`,
      outcome,
      actorKeyId: null,
      runId: typeof extra.runId === 'string' ? extra.runId : undefined,
      metadata: { provider, ...extra }
    })
    try {
      const answer = await receiver.receive({
        provider,
        headers: request.headers,
        rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        correlationId: request.correlationId
      })
      audit(answer.outcome, { deliveryId: answer.deliveryId, runId: answer.runId, status: answer.status, reason: answer.reason })
      // onWebhook answers are the library user's own shape: serialize them as they are.
      if (answer.custom) reply.serializer(JSON.stringify)
      return reply.code(answer.status as 202).send(answer.body as never)
    } catch (error) {
      if (isApiError(error)) {
        audit('refused', { reason: error.code, status: error.statusCode, ...(error.details ?? {}) })
      } else {
        audit('failed', { reason: 'internal_error' })
      }
      throw error
    }
  })
}

export default webhooks
