import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { checkReadiness, createDatabaseWriteProbe, notReadyMessage } from '../../../lib/readiness.js'
import {
  HealthResponse,
  HealthUnavailableResponse,
  LivenessResponse,
  NotReadyResponse,
  ReadinessResponse
} from '../../../lib/schemas/health.js'
import { VERSION } from '../../../lib/version.js'

// Probes answer without a key, over plain HTTP under requireHttps, and outside the rate limit.
const PROBE_CONFIG = { auth: false, rateLimit: false, httpsRequired: false } as const

const health: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    config: PROBE_CONFIG,
    schema: {
      summary: 'Liveness and dependency status; no authentication',
      tags: ['health'],
      response: { 200: HealthResponse, 503: HealthUnavailableResponse }
    }
  }, async (request, reply) => {
    const world = { ...await fastify.workflowWorldProbe(), target: fastify.workerConfig.targetWorld }
    const database = await fastify.controlPlane.probe() ? 'ok' as const : 'unavailable' as const
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

  fastify.get('/live', {
    config: PROBE_CONFIG,
    schema: {
      summary: 'Liveness for orchestrators: the process serves requests; calls no dependency',
      tags: ['health'],
      response: { 200: LivenessResponse }
    }
  }, async () => ({ status: 'ok' as const, version: VERSION, uptimeSeconds: Math.round(process.uptime()) }))

  const probeDatabaseWrite = createDatabaseWriteProbe(fastify.controlPlane)

  fastify.get('/ready', {
    config: PROBE_CONFIG,
    schema: {
      summary: 'Readiness for orchestrators: World reachable, control-plane database writable, executor up',
      tags: ['health'],
      response: { 200: ReadinessResponse, 503: NotReadyResponse }
    }
  }, async (request, reply) => {
    const readiness = await checkReadiness({
      probeWorld: fastify.workflowWorldProbe,
      probeDatabase: probeDatabaseWrite,
      compute: fastify.compute
    })
    const checks = {
      world: { ...readiness.world, target: fastify.workerConfig.targetWorld },
      database: readiness.database,
      compute: readiness.compute
    }
    if (readiness.ready) return { status: 'ok' as const, version: VERSION, checks }
    return reply.code(503).send({
      code: 'not_ready' as const,
      message: notReadyMessage(readiness),
      correlationId: request.correlationId,
      status: 'unavailable' as const,
      version: VERSION,
      checks
    })
  })
}

export default health
