import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ErrorResponse } from '../../../lib/schemas/common.js'
import { RUN_ID } from '../../../lib/schemas/examples.js'
import { DEFAULT_WEBHOOK_BODY_BYTES } from '../../../lib/webhooks/providers.js'

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
    config: { auth: false, anyMediaType: true, audit: 'webhook.receive' },
    onError: noteRefusal,
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
    noteDelivery(request, answer.outcome, { deliveryId: answer.deliveryId, runId: answer.runId, status: answer.status, reason: answer.reason })
    // onWebhook answers are the library user's own shape: serialize them as they are.
    if (answer.custom) reply.serializer(JSON.stringify)
    return reply.code(answer.status as 202).send(answer.body as never)
  })
}

/**
 * Every delivery is audited (`config.audit`), refusals included: those of the receiver and
 * Fastify's own (a body over the route limit); this records what the row says of it. A
 * rate-limited request is not a delivery and leaves no row.
 */
function noteDelivery (request: FastifyRequest, outcome: string, facts: Record<string, unknown>): void {
  const provider = (request.params as { provider?: string }).provider ?? ''
  // A rate-limited request is not a delivery: counted by the HTTP metrics only.
  if (request.auditError?.code !== 'rate_limited') {
    request.server.metrics?.webhookDelivery(request.server.workerConfig.webhookProviders.has(provider) ? provider : 'unconfigured', outcome)
  }
  request.auditFacts = {
    target: `webhook:${provider}`,
    outcome,
    runId: typeof facts.runId === 'string' ? facts.runId : undefined,
    metadata: { provider, ...facts }
  }
}

async function noteRefusal (request: FastifyRequest): Promise<void> {
  const refusal = request.auditError
  if (refusal === null) return
  const { statusCode: status, code } = refusal
  // The receiver's details say why (a signature's `reason`: stale_timestamp, no_match…).
  noteDelivery(request, status >= 500 ? 'failed' : 'refused', { status, code, reason: code, ...(status < 500 ? refusal.details : undefined) })
}

export default webhooks
