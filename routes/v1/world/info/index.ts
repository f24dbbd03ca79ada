import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AUTHENTICATED_ERRORS } from '../../../../lib/schemas/common.js'
import { WorldInfoResponse } from '../../../../lib/schemas/world.js'

const info: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    schema: {
      summary: 'What the World behind the lane supports: spec version, deployment, encryption',
      tags: ['world'],
      response: { 200: WorldInfoResponse, ...AUTHENTICATED_ERRORS }
    }
  }, async (_request, reply) => reply.sendWorldValue(await fastify.worldLane.info()))
}

export default info
