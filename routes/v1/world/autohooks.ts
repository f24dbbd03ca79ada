import type { FastifyInstance } from 'fastify'
import { DomainError } from '../../../lib/errors.js'
import { LANE_BODY_LIMITS } from '../../../lib/world-proxy/limits.js'
import { CBOR_MEDIA_TYPE, JSON_MEDIA_TYPE, OCTET_MEDIA_TYPE, decodeCbor, decodeTaggedJson } from '../../../lib/wire/codec.js'

function malformed (what: string, error: unknown): DomainError {
  return new DomainError('validation_error', `The ${what} body is malformed: ${(error as Error).message}`)
}

/**
 * The internal lane (`/v1/world/**`, and `/v1/queue/**` which re-exports this file): scope
 * `world:proxy` on every route, small bodies unless a route allows more, bodies decoded with the lane's codec (tagged JSON, CBOR, raw
 * bytes for stream writes), and nothing cached: answers carry hook tokens and run keys.
 */
export default async function worldProxyLane (fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onRoute', (routeOptions) => {
    routeOptions.config = { ...routeOptions.config, scope: 'world:proxy', worldLane: true }
    routeOptions.bodyLimit ??= LANE_BODY_LIMITS.envelope
  })

  // The lane's own parsers replace whatever this context inherited (the root's JSON parser, or a
  // host app's), for the lane's routes only.
  for (const type of [JSON_MEDIA_TYPE, CBOR_MEDIA_TYPE, OCTET_MEDIA_TYPE]) {
    if (fastify.hasContentTypeParser(type)) fastify.removeContentTypeParser(type)
  }
  // Bytes arrive tagged; they are revived before validation so that the World's zod schemas
  // never see the tag object (SerializedDataSchema would accept it as a legacy JSON value).
  fastify.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, decodeTaggedJson(body as string))
    } catch (error) {
      done(malformed('JSON', error), undefined)
    }
  })
  fastify.addContentTypeParser(CBOR_MEDIA_TYPE, { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, decodeCbor(body as Buffer))
    } catch (error) {
      done(malformed('CBOR', error), undefined)
    }
  })
  fastify.addContentTypeParser(OCTET_MEDIA_TYPE, { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body)
  })

  fastify.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
  })
}
