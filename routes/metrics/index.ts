import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AUTHENTICATED_ERRORS } from '../../lib/schemas/common.js'

const EXAMPLE = [
  '# HELP compute_worker_triggers_total Triggers (POST /v1/runs, webhook-started runs) by source and outcome',
  '# TYPE compute_worker_triggers_total counter',
  'compute_worker_triggers_total{source="api",outcome="created"} 1042',
  'compute_worker_triggers_total{source="api",outcome="replayed"} 17',
  ''
].join('\n')

/**
 * Prometheus scrapes this with a `metrics:read` key as its bearer token; outside the rate limit,
 * so that a scrape is never refused under load (when it matters most). Absent with `metrics: false`.
 */
const metricsRoute: FastifyPluginAsyncTypebox = async (fastify) => {
  const metrics = fastify.metrics
  if (metrics === undefined) return

  fastify.get('/', {
    config: { scope: 'metrics:read', rateLimit: false },
    schema: {
      summary: 'The worker\'s metrics in the Prometheus text format (HTTP, triggers, runs, steps, queue, executor, World, store, process)',
      tags: ['operations'],
      produces: ['text/plain'],
      response: { 200: Type.String({ description: 'Prometheus text exposition format 0.0.4', examples: [EXAMPLE] }), ...AUTHENTICATED_ERRORS }
    }
  }, async (_request, reply) => {
    const text = await metrics.render()
    return reply.type(metrics.contentType).send(text)
  })
}

export default metricsRoute
