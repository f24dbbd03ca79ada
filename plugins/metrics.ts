import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { IDEMPOTENT_REPLAYED_HEADER } from '../lib/headers.js'
import { triggerOutcome, WorkerMetrics } from '../lib/observability/metrics.js'
import { VERSION } from '../lib/version.js'
import { describeError } from '../http/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The worker's Prometheus metrics; undefined with `metrics: false` (nothing is collected). */
    metrics: WorkerMetrics | undefined
  }
}

/** The route label of requests that matched no route: never their URL. */
const UNMATCHED_ROUTE = 'unmatched'

/**
 * HTTP metrics: every request by route template, method and status, rate-limit refusals, and
 * the outcome of triggers (the routes with `config.idempotency`: POST /v1/runs). Decorates
 * `metrics` for the other plugins, which count what only they see (World calls, store
 * statements, webhook deliveries, the executor).
 */
export default fp<{ enabled: boolean }>(async function metricsPlugin (fastify, opts) {
  if (!opts.enabled) {
    fastify.decorate('metrics', undefined)
    return
  }
  const metrics = new WorkerMetrics({ version: VERSION, world: fastify.workerConfig.targetWorld })
  fastify.decorate('metrics', metrics)
  // The refusal's code: onResponse sees the status only.
  const errorCodes = new WeakMap<FastifyRequest, string>()

  fastify.addHook('onError', (request, _reply, error, done) => {
    if (request.routeOptions.config?.idempotency !== undefined) errorCodes.set(request, describeError(error).code)
    done()
  })

  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? UNMATCHED_ROUTE : request.routeOptions.url ?? UNMATCHED_ROUTE
    metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000)
    if (request.routeOptions.config?.idempotency !== undefined && !request.is404) {
      metrics.trigger('api', triggerOutcome(reply.statusCode, errorCodes.get(request), reply.getHeader(IDEMPOTENT_REPLAYED_HEADER) === 'true'))
    }
    done()
  })
}, { name: 'compute-worker-metrics', fastify: '5.x', dependencies: ['compute-worker-config'] })
