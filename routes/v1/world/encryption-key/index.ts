import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AUTHENTICATED_ERRORS } from '../../../../lib/schemas/common.js'
import { EncryptionKeyBody, EncryptionKeyResponse, WORLD_ERRORS } from '../../../../lib/schemas/world.js'

const encryptionKey: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/', {
    schema: {
      summary: 'world.getEncryptionKeyForRun(): the raw AES-256 key of a run, null when the World does not encrypt',
      description: 'The key follows the stored run\'s deployment; context.deploymentId only serves before the run exists. Never cached, never logged.',
      tags: ['world'],
      body: EncryptionKeyBody,
      response: { 200: EncryptionKeyResponse, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const key = await fastify.worldLane.getEncryptionKey(request.body.runId, request.body.context?.deploymentId)
    return reply.sendWorldValue({ key })
  })
}

export default encryptionKey
