import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'

import { CORRELATION_HEADER } from '../lib/headers.js'

// Printable, header- and log-safe; anything else is replaced by a fresh id rather than echoed.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's correlation id: the caller's `x-workflow-correlation-id`, else a new UUID v4. */
    correlationId: string
  }
}

export function acceptedCorrelationId (value: string | string[] | undefined): string | undefined {
  const id = Array.isArray(value) ? value[0] : value
  return id !== undefined && ACCEPTABLE_ID.test(id) ? id : undefined
}

/** Fastify `genReqId` for the standalone fronts: the request id *is* the correlation id. */
export function correlationRequestId (req: IncomingMessage): string {
  return acceptedCorrelationId(req.headers[CORRELATION_HEADER]) ?? randomUUID()
}

export interface CorrelationOptions {
  /** True when the instance's `genReqId` is `correlationRequestId`, so `request.id` already is it. */
  requestIdIsCorrelationId?: boolean
}

export default fp<CorrelationOptions>(async function correlationPlugin (fastify, opts) {
  fastify.decorateRequest('correlationId', '')

  fastify.addHook('onRequest', (request, reply, done) => {
    const id = opts.requestIdIsCorrelationId === true
      ? request.id
      : acceptedCorrelationId(request.headers[CORRELATION_HEADER]) ?? randomUUID()
    request.correlationId = id
    // Injected before routing, so handlers and anything they forward see the same id.
    request.headers[CORRELATION_HEADER] = id
    if (opts.requestIdIsCorrelationId !== true) request.log = request.log.child({ correlationId: id })
    reply.header(CORRELATION_HEADER, id)
    done()
  })

  // Error paths may rebuild the reply's headers; set the id again on the way out.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (request.correlationId !== '') reply.header(CORRELATION_HEADER, request.correlationId)
    done(null, payload)
  })
}, { name: 'compute-worker-correlation', fastify: '5.x' })
