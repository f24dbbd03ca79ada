import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AUTHENTICATED_ERRORS, ErrorResponse } from '../../../../lib/schemas/common.js'
import { DeploymentIdResponse } from '../../../../lib/schemas/world.js'

const deploymentId: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    schema: {
      summary: 'world.getDeploymentId()',
      tags: ['world'],
      response: { 200: DeploymentIdResponse, ...AUTHENTICATED_ERRORS }
    }
  }, async (_request, reply) => reply.sendWorldValue({ deploymentId: await fastify.worldLane.getDeploymentId() }))

  fastify.get('/latest', {
    schema: {
      summary: 'world.resolveLatestDeploymentId(); 501 when the World has none',
      tags: ['world'],
      response: { 200: DeploymentIdResponse, 501: ErrorResponse, ...AUTHENTICATED_ERRORS }
    }
  }, async (_request, reply) => reply.sendWorldValue({ deploymentId: await fastify.worldLane.resolveLatestDeploymentId() }))
}

export default deploymentId
