import fp from 'fastify-plugin'
import { describeError } from '../http/errors.js'

/** The worker's error handler and 404 handler: every failure answers `{ code, message, correlationId, ...details }`. */
export default fp(async function errorsPlugin (fastify) {
  fastify.setErrorHandler(function handleError (error, request, reply) {
    const config = request.routeOptions.config
    const described = describeError(error, { worldLane: config?.worldLane, errorStatus: config?.errorStatus })
    if (described.statusCode >= 500) {
      request.log.error({ err: error }, 'request failed')
    } else {
      request.log.info({ code: described.code, statusCode: described.statusCode }, described.message)
    }
    if (described.headers !== undefined) reply.headers(described.headers)
    // A Bearer challenge for a missing or refused key; not for a webhook's bad signature.
    if (described.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="compute-worker"')
    // The body is the worker's error, whatever the route's schema for that status documents
    // (health's 503 is its report): serialized as built.
    reply.serializer(JSON.stringify)
    reply.code(described.statusCode).type('application/json; charset=utf-8').send({
      code: described.code,
      message: described.message,
      correlationId: request.correlationId,
      ...described.details
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
