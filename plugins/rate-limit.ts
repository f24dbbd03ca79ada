import rateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { DomainError } from '../lib/errors.js'
import type { RateLimitTable } from '../lib/store/control-plane.js'

const WINDOW_MS = 60_000
// Windows older than this are deleted now and then (a key's row is reused while it keeps coming).
const PURGE_INTERVAL_MS = 10 * WINDOW_MS

/** A @fastify/rate-limit store over the control plane's shared counts: every worker counts each request once. */
function sharedStore (table: RateLimitTable): FastifyRateLimitStoreCtor {
  return class SharedRateLimitStore implements FastifyRateLimitStore {
    incr (key: string, callback: Parameters<FastifyRateLimitStore['incr']>[1], timeWindow: number, max: number): void {
      table.hit(key, timeWindow, max).then((window) => callback(null, window), (error: Error) => callback(error))
    }

    child (): FastifyRateLimitStore {
      return this
    }
  }
}

export default fp<{ rateLimitPerMinute: number }>(async function rateLimitPlugin (fastify, opts) {
  // A host app may have registered @fastify/rate-limit already; its decorator (and store) serve us too.
  if (!fastify.hasDecorator('rateLimit')) {
    const shared = fastify.controlPlane.rateLimits
    await fastify.register(rateLimit, { global: false, ...(shared !== undefined ? { store: sharedStore(shared) } : {}) })
    if (shared !== undefined) {
      const timer = setInterval(() => {
        shared.purge(PURGE_INTERVAL_MS).catch((error: unknown) => fastify.log.warn({ err: error }, 'rate limit: purging old windows failed'))
      }, PURGE_INTERVAL_MS)
      timer.unref()
      fastify.addHook('onClose', async () => { clearInterval(timer) })
    }
  }

  const limit = fastify.rateLimit({
    timeWindow: WINDOW_MS,
    max: (request) => request.callerKey?.rateLimitPerMinute ?? opts.rateLimitPerMinute,
    keyGenerator: (request) => request.callerKey !== null ? `key:${request.callerKey.id}` : `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) =>
      new DomainError('rate_limited', `Rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`)
  })

  // Added here rather than per route so it runs after the key is identified (auth's onRequest).
  // A delegated call (the dashboard's, `actAs`) is part of a request that was counted already.
  fastify.addHook('onRequest', async function applyRateLimit (request, reply) {
    if (request.routeOptions.config?.rateLimit === false || request.delegated) return
    await limit.call(this, request, reply)
  })
}, { name: 'compute-worker-rate-limit', fastify: '5.x', dependencies: ['compute-worker-auth', 'compute-worker-storage'] })
