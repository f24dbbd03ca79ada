import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { authorizesDelivery, DELIVERY_SECRET_HEADER, sameSecret } from '../../../../lib/wire/credentials.js'
import { DomainError } from '../../../../lib/errors.js'
import { wasInjected } from '../../../../http/requests.js'
import { deliveryBodyProblem } from '../../../../lib/compute/delivery-body.js'
import { endpointHealthResponse } from '../../../../lib/compute/health-check.js'
import { ErrorResponse } from '../../../../lib/schemas/common.js'
import { LANE_BODY_LIMITS } from '../../../../lib/world-proxy/limits.js'
import {
  DeliveryEndpointParams, DeliveryFailure, DeliveryOrHealthResponse, EndpointHealthResponse, WebhookHandlerAnswer, WebhookParams
} from '../../../../lib/schemas/compute.js'

// The SDK's own paths (@workflow/utils WORKFLOW_ROUTE_BASE), whatever this folder is called.
export const autoPrefix = '/.well-known/workflow/v1'

const WEBHOOK_BODY_LIMIT = 10 * 1024 * 1024
// The SDK's handlers are single functions, exported for every method.
const EVERY_METHOD = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
const HealthProbeQuery = Type.Object({ __health: Type.Optional(Type.String({ description: 'present, any value: a health probe' })) })

function isHealthProbe (request: FastifyRequest): boolean {
  return Object.hasOwn(request.query as object, '__health')
}

function isJson (contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\b/i.test(contentType)
}
const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/

/**
 * Queue deliveries run deployment code, so only the World's own delivery (a request from this
 * machine straight to this server: loopback, or the host's own address when HOST is one) or a
 * caller holding the delivery secret (as `Authorization: Bearer`, which the worker's World sends
 * itself, or `x-workflow-delivery-secret`) may make one. Injected requests (the fetch front) and
 * requests relayed by a proxy are not taken as local.
 */
function mayDeliver (request: FastifyRequest, secret: string | undefined): boolean {
  const given = request.headers[DELIVERY_SECRET_HEADER]
  if (secret !== undefined && typeof given === 'string') return sameSecret(given, secret)
  if (secret !== undefined && authorizesDelivery(request.headers.authorization, secret)) return true
  if (wasInjected(request)) return false
  if (request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined) return false
  const socket = request.raw.socket
  const remote = socket?.remoteAddress ?? ''
  return LOOPBACK.test(remote) || (remote !== '' && remote === socket?.localAddress)
}

function toWebRequest (request: FastifyRequest): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item)
  }
  const body = Buffer.isBuffer(request.body) && request.method !== 'GET' && request.method !== 'HEAD' ? new Uint8Array(request.body) : undefined
  return new Request(`http://${request.host}${request.url}`, { method: request.method, headers, body })
}

async function sendWebResponse (reply: FastifyReply, response: Response): Promise<FastifyReply> {
  reply.code(response.status)
  response.headers.forEach((value, name) => {
    if (name !== 'content-length' && name !== 'transfer-encoding') reply.header(name, value)
  })
  return await reply.send(response.body === null ? undefined : Buffer.from(await response.arrayBuffer()))
}

/**
 * The routes a Workflow SDK app serves under `/.well-known/workflow/v1`, served here by the
 * executor: queue deliveries for Worlds that deliver over HTTP, and the SDK's webhook URLs.
 * Without an executor (compute: none) none of them exist.
 */
const workflowRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const compute = fastify.compute
  // Deliveries and webhook bodies are passed on byte for byte, whatever their type.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

  const handleDelivery = compute?.handleDelivery?.bind(compute)
  if (handleDelivery !== undefined) {
    const config = { auth: false, rateLimit: false, httpsRequired: false } as const
    // `?__health` is answered to anyone as the SDK's handlers answer it, whatever the method (the
    // SDK's `wf health` sends POST, its port probe HEAD); only deliveries are internal.
    const healthAnswer = async (request: FastifyRequest, reply: FastifyReply) =>
      await sendWebResponse(reply, endpointHealthResponse(request.method, request.url.split('?')[0], fastify.workflowWorld.specVersion))

    fastify.post('/:endpoint', {
      bodyLimit: LANE_BODY_LIMITS.queuePublish,
      config,
      onRequest: async (request) => {
        if (isHealthProbe(request)) return
        if (!mayDeliver(request, compute?.deliverySecret)) {
          throw new DomainError('forbidden', `Queue deliveries are accepted from loopback or with the delivery secret (Authorization: Bearer, or ${DELIVERY_SECRET_HEADER})`)
        }
      },
      schema: {
        summary: 'A queue delivery for the executor (internal: loopback or delivery secret); with ?__health, the SDK\'s health answer (public)',
        tags: ['internal'],
        params: DeliveryEndpointParams,
        querystring: HealthProbeQuery,
        // 400/500 come from the SDK's queue handler ({ error }) or from the worker (its error body).
        response: {
          200: DeliveryOrHealthResponse,
          400: Type.Union([ErrorResponse, DeliveryFailure]),
          403: ErrorResponse,
          500: Type.Union([ErrorResponse, DeliveryFailure]),
          503: DeliveryFailure
        }
      }
    }, async (request, reply) => {
      if (isHealthProbe(request)) return await healthAnswer(request, reply)
      const { endpoint } = request.params
      const body = request.body
      if (Buffer.isBuffer(body) && body.length > 0 && isJson(request.headers['content-type'])) {
        const problem = deliveryBodyProblem(endpoint, body)
        if (problem !== undefined) throw new DomainError('validation_error', problem)
      }
      return await sendWebResponse(reply, await handleDelivery(endpoint, toWebRequest(request)))
    })

    fastify.route({
      method: EVERY_METHOD.filter((method) => method !== 'POST'),
      url: '/:endpoint',
      exposeHeadRoute: false,
      config,
      schema: {
        summary: 'The SDK\'s endpoint health probe (?__health, public): OPTIONS 204 and HEAD 200 without a body, others 200 with it',
        tags: ['internal'],
        params: DeliveryEndpointParams,
        querystring: Type.Object({ __health: Type.String({ description: 'present, any value' }) }),
        response: { 200: EndpointHealthResponse, 204: Type.Null({ description: 'the CORS preflight of a probe' }) }
      },
      handler: healthAnswer
    })
  }

  const handleWebhook = compute?.handleWebhook?.bind(compute)
  if (handleWebhook !== undefined) {
    fastify.route({
      method: EVERY_METHOD,
      url: '/webhook/:token',
      exposeHeadRoute: false,
      bodyLimit: WEBHOOK_BODY_LIMIT,
      config: { auth: false },
      schema: {
        summary: "Resumes the webhook hook with this token, with its deployment's webhook handler (the SDK's createWebhook URL)",
        tags: ['webhooks'],
        params: WebhookParams,
        response: {
          '2xx': WebhookHandlerAnswer,
          404: Type.Null({ description: 'No webhook has this token (unknown, or a createHook() token): no body, as the SDK answers' }),
          413: ErrorResponse,
          429: ErrorResponse,
          500: ErrorResponse
        }
      },
      handler: async (request, reply) => {
        let response: Response
        try {
          response = await handleWebhook(request.params.token, toWebRequest(request))
        } catch (error) {
          if ((error as Error)?.name !== 'HookNotFoundError') throw error
          // Answered as the deployment's own handler answers a live token that is not a
          // webhook, so that no caller can tell which tokens exist (`approval:42` is guessable).
          response = new Response(null, { status: 404 })
        }
        return await sendWebResponse(reply, response)
      }
    })
  }
}

export default workflowRoutes
