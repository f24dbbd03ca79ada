import fp from 'fastify-plugin'
import { DomainError } from '../lib/errors.js'

/**
 * Requests that arrive while the worker shuts down are refused as the worker's JSON error (503
 * `not_ready`, the correlation id, `connection: close`) rather than with Fastify's own body
 * (`return503OnClosing`, off in the standalone fronts). Requests already in flight finish.
 */
export default fp(async function closingPlugin (fastify) {
  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  // On every request: a callback hook, no promise for the common case.
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done()
    reply.header('connection', 'close')
    done(new DomainError('not_ready', 'The worker is shutting down; retry on another instance'))
  })
}, { name: 'compute-worker-closing', fastify: '5.x', dependencies: ['compute-worker-correlation'] })
