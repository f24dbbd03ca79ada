import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ErrorResponse } from '../../../lib/schemas/common.js'
import { RUN_ID } from '../../../lib/schemas/examples.js'
import { DEFAULT_WEBHOOK_BODY_BYTES } from '../../../lib/webhooks/providers.js'
import { describeError } from '../../../plugins/errors.js'

const acceptedExample = { received: true, deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958', runId: RUN_ID }

const WebhookAccepted = Type.Object({
  received: Type.Literal(true),
  deliveryId: Type.String(),
  runId: Type.Optional(Type.String())
}, { additionalProperties: true, examples: [acceptedExample] })

const webhooks: FastifyPluginAsyncTypebox = async (fastify) => {
  const receiver = fastify.webhookReceiver

  // Signatures are over the exact bytes: in this route (and only here) every body stays a Buffer.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

  const bodyLimit = Math.max(DEFAULT_WEBHOOK_BODY_BYTES, ...[...fastify.workerConfig.webhookProviders.values()].map((p) => p.maxBodyBytes))

  fastify.post('/:provider', {
    bodyLimit,
    config: { auth: false, anyMediaType: true },
    onError: auditRefusal,
    schema: {
      summary: 'Receive a provider webhook (GitHub, Stripe, Standard Webhooks); authenticated by its signature',
      tags: ['webhooks'],
      // Any name: one that is not configured is 404 not_found (and audited), not a validation error.
      params: Type.Object({ provider: Type.String({ maxLength: 256 }) }),
      response: {
        200: Type.Unknown({ description: 'A repeated delivery: the first answer again', examples: [acceptedExample] }),
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
    const answer = await receiver.receive({
      provider: request.params.provider,
      headers: request.headers,
      rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      correlationId: request.correlationId
    })
    auditDelivery(request, answer.outcome, { deliveryId: answer.deliveryId, runId: answer.runId, status: answer.status, reason: answer.reason })
    // onWebhook answers are the library user's own shape: serialize them as they are.
    if (answer.custom) reply.serializer(JSON.stringify)
    return reply.code(answer.status as 202).send(answer.body as never)
  })
}

/**
 * One audit row per delivery, refusals included: those of the receiver and Fastify's own (a body
 * over the route limit). Rate-limited requests are not deliveries and leave none (a flood would
 * otherwise fill the audit log).
 */
function auditDelivery (request: FastifyRequest, outcome: string, facts: Record<string, unknown>): void {
  const provider = (request.params as { provider?: string }).provider ?? ''
  request.server.metrics?.webhookDelivery(request.server.workerConfig.webhookProviders.has(provider) ? provider : 'unconfigured', outcome)
  request.audit({
    action: 'webhook.receive',
    target: `webhook:${provider}`,
    outcome,
    actorKeyId: null,
    runId: typeof facts.runId === 'string' ? facts.runId : undefined,
    metadata: { provider, ...facts }
  })
}

async function auditRefusal (request: FastifyRequest, _reply: FastifyReply, error: Error): Promise<void> {
  const described = describeError(error)
  if (described.code === 'rate_limited') return
  const { statusCode: status, code } = described
  // The receiver's details say why (a signature's `reason`: stale_timestamp, no_match…).
  auditDelivery(request, status >= 500 ? 'failed' : 'refused', { status, code, reason: code, ...(status < 500 ? described.details : undefined) })
}

export default webhooks
