import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { authorizesDelivery, DELIVERY_SECRET_HEADER, sameSecret } from '../../../../lib/wire/credentials.js'
import { DomainError } from '../../../../lib/errors.js'
import { WORKFLOW_CORE_VERSION } from '../../../../lib/sdk/core-internals.js'
import { ErrorResponse } from '../../../../lib/schemas/common.js'
import { LANE_BODY_LIMITS } from '../../../../lib/world-proxy/limits.js'
import { wasInjected } from '../../../../http/requests.js'
import {
  DeliveryEndpointParams, DeliveryFailure, DeliveryResponse, EndpointHealthResponse, WebhookHandlerAnswer, WebhookParams
} from '../../../../lib/schemas/compute.js'

// The SDK's own paths (@workflow/utils WORKFLOW_ROUTE_BASE), whatever this folder is called.
export const autoPrefix = '/.well-known/workflow/v1'

const WEBHOOK_BODY_LIMIT = 10 * 1024 * 1024
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
    const guard = async (request: FastifyRequest): Promise<void> => {
      if (!mayDeliver(request, compute?.deliverySecret)) {
        throw new DomainError('forbidden', `Queue deliveries are accepted from loopback or with the delivery secret (Authorization: Bearer, or ${DELIVERY_SECRET_HEADER})`)
      }
    }
    const config = { auth: false, rateLimit: false, httpsRequired: false } as const

    fastify.post('/:endpoint', {
      bodyLimit: LANE_BODY_LIMITS.queuePublish,
      config,
      onRequest: guard,
      schema: {
        summary: 'A queue delivery for the executor (internal: loopback or delivery secret)',
        tags: ['internal'],
        params: DeliveryEndpointParams,
        // 400/500 come from the SDK's queue handler ({ error }) or from the worker (its error body).
        response: { 200: DeliveryResponse, 400: Type.Union([ErrorResponse, DeliveryFailure]), 403: ErrorResponse, 500: Type.Union([ErrorResponse, DeliveryFailure]), 503: DeliveryFailure }
      }
    }, async (request, reply) => await sendWebResponse(reply, await handleDelivery(request.params.endpoint, toWebRequest(request))))

    // The SDK probes `flow?__health` to find the port its executor listens on (@workflow/utils get-port).
    fastify.get('/:endpoint', {
      config,
      onRequest: guard,
      schema: {
        summary: 'Health of a delivery endpoint, as the SDK answers it',
        tags: ['internal'],
        params: DeliveryEndpointParams,
        response: { 200: EndpointHealthResponse, 403: ErrorResponse }
      }
    }, async (request) => ({
      healthy: true,
      endpoint: `${autoPrefix}/${request.params.endpoint}`,
      specVersion: fastify.workflowWorld.specVersion ?? 3,
      workflowCoreVersion: WORKFLOW_CORE_VERSION
    }))
  }

  const handleWebhook = compute?.handleWebhook?.bind(compute)
  if (handleWebhook !== undefined) {
    fastify.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
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
          404: ErrorResponse,
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
          if ((error as Error)?.name === 'HookNotFoundError') throw new DomainError('hook_not_found', 'No hook has this token', { cause: error })
          throw error
        }
        return await sendWebResponse(reply, response)
      }
    })
  }
}

export default workflowRoutes
