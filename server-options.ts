import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import { codeOfBareStatus } from './http/errors.js'
import { CORRELATION_HEADER } from './lib/headers.js'

/**
 * The longest path parameter the worker takes: a hook token (2048 characters) URL-encoded, up to
 * three characters each; run ids (128) fit with room to spare. Fastify's router refuses longer
 * ones itself, 100 by default.
 */
export const MAX_PARAM_LENGTH = 3 * 2048

function errorBody (code: string, message: string, correlationId: string): string {
  return JSON.stringify({ code, message, correlationId })
}

/**
 * Fastify's own refusals, made before any hook or route runs (so before the worker's error
 * handler and correlation hook): answered as the worker's JSON error (`{ code, message, correlationId }`), with the correlation id
 * (`request.id`, which the fronts' `genReqId` makes the correlation id). The URL is not echoed:
 * it may carry a token.
 */
function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const [status, message] = error.code === 'FST_ERR_BAD_URL'
    ? [400, 'The URL is not valid: a path segment has malformed percent-encoding']
    : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, `A path parameter of the URL is longer than ${MAX_PARAM_LENGTH} characters`]
      : [500, 'Internal server error']
  if (status >= 500) request.log.error({ err: error }, 'request failed before routing')
  void reply.code(status)
    .header(CORRELATION_HEADER, request.id)
    .type('application/json; charset=utf-8')
    .send(errorBody(codeOfBareStatus(status), message, request.id))
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (a header block over
 * `maxHeaderSize`, 16 KiB by default; a request that is not HTTP; a request timeout): the
 * worker's JSON error written on the socket, with a fresh correlation id (the request's own could
 * not be read), then the connection closed as Node does.
 */
function clientErrorHandler (this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, message] = error.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'The request\'s header block is larger than this server takes']
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'The request did not arrive in time']
      : [400, 'The request is not valid HTTP']
  const correlationId = randomUUID()
  this.log.debug({ err: error, correlationId }, 'client error')
  if (socket.writable) {
    const body = errorBody(codeOfBareStatus(status), message, correlationId)
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `${CORRELATION_HEADER}: ${correlationId}\r\n` +
      `Connection: close\r\n\r\n${body}`)
  }
  socket.destroy(error)
}

/**
 * The Fastify server options the worker needs from the instance it runs in, so that every
 * answer, the framework's own included, is the worker's JSON error with a correlation id.
 * The standalone fronts use them; a host app that registers `computeWorkerPlugin` owns its
 * instance's options and passes them itself: `Fastify({ ...computeWorkerServerOptions })`.
 */
export const computeWorkerServerOptions = {
  routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  frameworkErrors,
  clientErrorHandler
} satisfies Partial<FastifyServerOptions>

/** The router's parameter limit of an instance (Fastify 5 takes it in `routerOptions`, and still at the top level). */
export function maxParamLengthOf (instance: FastifyInstance): number {
  const config = instance.initialConfig as { maxParamLength?: number, routerOptions?: { maxParamLength?: number } }
  return config.routerOptions?.maxParamLength ?? config.maxParamLength ?? 100
}
