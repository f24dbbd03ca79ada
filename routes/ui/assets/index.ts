import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ApiError } from '../../../lib/errors.js'
import { ASSETS } from '../../../lib/ui/assets.js'

/** The pages' scripts and stylesheet: no session, no rate limit (a page load is counted once). */
const assets: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/:name', {
    config: { uiPublic: true, rateLimit: false },
    schema: {
      params: Type.Object({ name: Type.String({ maxLength: 64 }) }),
      querystring: Type.Object({ v: Type.Optional(Type.String({ maxLength: 64 })) })
    }
  }, async (request, reply) => {
    const asset = Object.hasOwn(ASSETS, request.params.name) ? ASSETS[request.params.name] : undefined
    if (asset === undefined) throw new ApiError(404, 'not_found', `No asset ${request.params.name}`)
    const etag = `"${asset.version}"`
    // A versioned URL never changes its content; an unversioned one is checked again each time.
    reply.header('cache-control', request.query.v === asset.version ? 'public, max-age=31536000, immutable' : 'no-cache')
    reply.header('etag', etag)
    if (request.headers['if-none-match'] === etag) return await reply.code(304).send()
    return await reply.type(asset.contentType).send(asset.body)
  })
}

export default assets
