import sensible from '@fastify/sensible'
import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError, defaultCodeForStatus, isUnavailableError } from '../lib/errors.js'
import { worldErrorNameFor } from '../lib/wire/world-errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * An internal-lane route: every error body also carries `name`, the World error class the
     * client rebuilds (world-proxy-protocol.md §0.4), auth and validation refusals included.
     */
    worldLane?: boolean
  }
}

export interface ErrorDescription {
  statusCode: number
  code: string
  message: string
  details?: Record<string, unknown>
  headers?: Record<string, string>
}

type MaybeFastifyError = Partial<FastifyError> & { status?: number, expose?: boolean }

/** Maps anything thrown in a request to the contract's error (status, code, message, details). */
export function describeError (error: unknown): ErrorDescription {
  if (error instanceof ApiError) {
    return { statusCode: error.statusCode, code: error.code, message: error.message, details: error.details, headers: error.headers }
  }
  const err = (error ?? {}) as MaybeFastifyError
  if (Array.isArray(err.validation)) {
    const where = err.validationContext ?? 'body'
    return {
      statusCode: 400,
      code: 'validation_error',
      message: err.message ?? 'Invalid request',
      details: {
        validation: err.validation.map((issue) => ({
          in: where,
          path: issue.instancePath === '' ? '/' : issue.instancePath,
          message: issue.message ?? 'is invalid'
        }))
      }
    }
  }
  const status = err.statusCode ?? err.status
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own 4xx (bad JSON, body too large, media type) and @fastify/sensible's httpErrors.
    return { statusCode: status, code: defaultCodeForStatus(status), message: err.message || 'Bad request' }
  }
  if (status === 503) {
    return { statusCode: 503, code: 'not_ready', message: err.message || 'Service unavailable' }
  }
  if (isUnavailableError(error)) {
    return { statusCode: 503, code: 'not_ready', message: 'A service the worker depends on is unavailable; retry later' }
  }
  return { statusCode: 500, code: 'internal_error', message: 'Internal server error' }
}

export default fp(async function errorsPlugin (fastify) {
  if (!fastify.hasDecorator('httpErrors')) await fastify.register(sensible)

  fastify.setErrorHandler(function handleError (error, request, reply) {
    const described = describeError(error)
    if (described.statusCode >= 500) {
      request.log.error({ err: error }, 'request failed')
    } else {
      request.log.info({ code: described.code, statusCode: described.statusCode }, described.message)
    }
    if (described.headers !== undefined) reply.headers(described.headers)
    // A Bearer challenge for a missing or refused key; not for a webhook's bad signature.
    if (described.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="compute-worker"')
    // The body is the contract's error, whatever the route's schema for that status documents
    // (health's 503 is its report): serialized as built.
    reply.serializer(JSON.stringify)
    const laneName = request.routeOptions.config?.worldLane === true && described.details?.name === undefined
      ? { name: worldErrorNameFor(described.statusCode, described.code) }
      : undefined
    reply.code(described.statusCode).type('application/json; charset=utf-8').send({
      code: described.code,
      message: described.message,
      correlationId: request.correlationId,
      ...described.details,
      ...laneName
    })
  })

  try {
    fastify.setNotFoundHandler(function handleNotFound (request, reply) {
      reply.code(404).type('application/json; charset=utf-8').send({
        code: 'not_found',
        message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
        correlationId: request.correlationId
      })
    })
  } catch (error) {
    // Mounted without a prefix into a host that set its own 404 handler: the host keeps it.
    if (!/not found handler already set/i.test((error as Error).message)) throw error
    fastify.log.debug('the host app owns the 404 handler of this prefix')
  }
}, { name: 'compute-worker-errors', fastify: '5.x' })
