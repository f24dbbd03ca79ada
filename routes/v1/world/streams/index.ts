import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { STREAM_START_INDEX_HEADER } from '../../../../lib/headers.js'
import { AUTHENTICATED_ERRORS, ErrorResponse } from '../../../../lib/schemas/common.js'
import {
  StreamChunksQuery,
  StreamChunksResponse,
  StreamInfoResponse,
  StreamListResponse,
  StreamReadQuery,
  StreamTarget,
  StreamWriteBody,
  StreamWriteQuery,
  WORLD_ERRORS
} from '../../../../lib/schemas/world.js'
import { CBOR_MEDIA_TYPE, FRAMES_MEDIA_TYPE, JSON_MEDIA_TYPE, OCTET_MEDIA_TYPE } from '../../../../lib/world-proxy/codec.js'
import { LANE_BODY_LIMITS } from '../../../../lib/world-proxy/limits.js'
import { streamTargetOf, streamWriteOf } from '../../../../lib/world-proxy/stream-requests.js'

const NoContent = Type.Null({ description: 'No content' })

const streams: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/write', {
    bodyLimit: LANE_BODY_LIMITS.streamWrite,
    config: { audit: { action: 'world.streams.write', aggregate: true } },
    schema: {
      summary: 'world.writeToStream / writeToStreamMulti',
      description: 'Not idempotent: a retried write appends twice. Zero-length chunks are dropped; a write to a closed stream (closed through this lane or on the World itself) is 409.',
      tags: ['world'],
      consumes: [OCTET_MEDIA_TYPE, JSON_MEDIA_TYPE, CBOR_MEDIA_TYPE],
      querystring: StreamWriteQuery,
      body: StreamWriteBody,
      response: { 204: NoContent, 413: ErrorResponse, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const write = streamWriteOf(request.body, request.query, request.headers['x-stream-multi'] === 'true')
    request.auditFacts = { kind: write.chunks.length > 1 ? 'multi' : 'single', runId: write.runId }
    await fastify.worldLane.writeToStream(write.name, write.runId, write.chunks)
    return reply.code(204).send(null)
  })

  fastify.post('/close', {
    config: { audit: { action: 'world.streams.close', aggregate: true } },
    schema: {
      summary: 'world.closeStream(name, runId); idempotent',
      tags: ['world'],
      querystring: StreamWriteQuery,
      response: { 204: NoContent, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const target = streamTargetOf(request.body, request.query)
    request.auditFacts = { runId: target.runId }
    await fastify.worldLane.closeStream(target.name, target.runId)
    return reply.code(204).send(null)
  })

  fastify.get('/read', {
    schema: {
      summary: 'world.readFromStream(name, startIndex): a live body of frames until the stream closes',
      description: `Content-Type ${FRAMES_MEDIA_TYPE}: frames kind:u8 ‖ index:u32be ‖ length:u32be ‖ payload; ` +
        'DATA (1, absolute chunk index), END (2), PING (3), ERROR (4, JSON error). An unknown stream is not a 404: the read waits.',
      tags: ['world'],
      produces: [FRAMES_MEDIA_TYPE],
      querystring: StreamReadQuery,
      response: { 200: Type.Unknown({ description: 'binary frames' }), ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const { name, startIndex = 0, runId } = request.query
    const read = await fastify.worldLane.openLiveRead(name, startIndex, runId)
    return reply
      .type(FRAMES_MEDIA_TYPE)
      .header('x-accel-buffering', 'no')
      .header(STREAM_START_INDEX_HEADER, String(read.startIndex))
      .send(read.frames)
  })

  fastify.get('/list', {
    schema: {
      summary: 'world.listStreamsByRunId(runId)',
      tags: ['world'],
      querystring: Type.Object({ runId: Type.String({ minLength: 1, maxLength: 512 }) }),
      response: { 200: StreamListResponse, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => reply.sendWorldValue({ streams: await fastify.worldLane.listStreams(request.query.runId) }))

  fastify.get('/chunks', {
    schema: {
      summary: 'world.getStreamChunks(name, runId, { cursor, limit }): a snapshot page',
      tags: ['world'],
      querystring: StreamChunksQuery,
      response: { 200: StreamChunksResponse, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const { name, runId, cursor, limit } = request.query
    return reply.sendWorldValue(await fastify.worldLane.getStreamChunks(name, runId, { cursor, limit }))
  })

  fastify.get('/info', {
    schema: {
      summary: 'world.getStreamInfo(name, runId)',
      tags: ['world'],
      querystring: StreamTarget,
      response: { 200: StreamInfoResponse, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const { name, runId } = request.query
    return reply.sendWorldValue(await fastify.worldLane.getStreamInfo(name, runId))
  })
}

export default streams
