import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AUTHENTICATED_ERRORS } from '../../../../lib/schemas/common.js'
import { ListRunsBody, ResolveDataQuery, RunPage, WORLD_ERRORS, WorkflowRunEntity } from '../../../../lib/schemas/world.js'

const runs: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/list', {
    schema: {
      summary: 'world.runs.list(params)',
      tags: ['world'],
      body: ListRunsBody,
      response: { 200: RunPage, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => reply.sendWorldValue(await fastify.worldLane.listRuns(request.body)))

  fastify.get('/:runId', {
    schema: {
      summary: 'world.runs.get(runId, params)',
      tags: ['world'],
      params: Type.Object({ runId: Type.String({ minLength: 1 }) }),
      querystring: ResolveDataQuery,
      response: { 200: WorkflowRunEntity, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => reply.sendWorldValue(await fastify.worldLane.getRun(request.params.runId, request.query.resolveData)))
}

export default runs
