import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AUTHENTICATED_ERRORS } from '../../../../lib/schemas/common.js'
import { ResolveData, RunScopedListBody, StepEntity, StepPage, WORLD_ERRORS } from '../../../../lib/schemas/world.js'

const steps: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/:stepId', {
    schema: {
      summary: 'world.steps.get(runId, stepId, params)',
      description: 'Give runId: without it world-local scans every step of every run.',
      tags: ['world'],
      params: Type.Object({ stepId: Type.String({ minLength: 1 }) }),
      querystring: Type.Object({ runId: Type.Optional(Type.String({ maxLength: 512 })), resolveData: Type.Optional(ResolveData) }),
      response: { 200: StepEntity, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const { runId, resolveData } = request.query
    return reply.sendWorldValue(await fastify.worldLane.getStep(runId, request.params.stepId, resolveData))
  })

  fastify.post('/list', {
    schema: {
      summary: 'world.steps.list(params)',
      tags: ['world'],
      body: RunScopedListBody,
      response: { 200: StepPage, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => reply.sendWorldValue(await fastify.worldLane.listSteps(request.body)))
}

export default steps
