import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { ApiError } from '../lib/errors.js'

export default fp<{ rateLimitPerMinute: number }>(async function rateLimitPlugin (fastify, opts) {
  // A host app may have registered @fastify/rate-limit already; its decorator serves us too.
  if (!fastify.hasDecorator('rateLimit')) await fastify.register(rateLimit, { global: false })

  const limit = fastify.rateLimit({
    timeWindow: 60_000,
    max: (request) => request.callerKey?.rateLimitPerMinute ?? opts.rateLimitPerMinute,
    keyGenerator: (request) => request.callerKey !== null ? `key:${request.callerKey.id}` : `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) =>
      new ApiError(context.statusCode, 'rate_limited', `Rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`)
  })

  // Added here rather than per route so it runs after the key is identified (auth's onRequest).
  // A delegated call (the dashboard's, `actAs`) is part of a request that was counted already.
  fastify.addHook('onRequest', async function applyRateLimit (request, reply) {
    if (request.routeOptions.config?.rateLimit === false || request.delegated) return
    await limit.call(this, request, reply)
  })
}, { name: 'compute-worker-rate-limit', fastify: '5.x', dependencies: ['compute-worker-auth'] })
