import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { probeDatabase } from '../../../lib/store/database.js'
import { HealthResponse, HealthUnavailableResponse } from '../../../lib/schemas/health.js'
import { VERSION } from '../../../lib/version.js'

const health: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    config: { auth: false, rateLimit: false, httpsRequired: false },
    schema: {
      summary: 'Liveness and dependency status; no authentication',
      tags: ['health'],
      response: { 200: HealthResponse, 503: HealthUnavailableResponse }
    }
  }, async (request, reply) => {
    const world = { ...await fastify.workflowWorldProbe(), target: fastify.workerConfig.targetWorld }
    const database = probeDatabase(fastify.controlDb) ? 'ok' as const : 'unavailable' as const
    if (world.status === 'ok' && database === 'ok') {
      return { status: 'ok' as const, version: VERSION, world, database }
    }
    return reply.code(503).send({
      code: 'not_ready' as const,
      message: world.status !== 'ok' ? `The World is unavailable: ${world.error ?? 'no answer'}` : 'The database is unavailable',
      correlationId: request.correlationId,
      status: 'unavailable' as const,
      version: VERSION,
      world,
      database
    })
  })
}

export default health
