import type { FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { encodeBody, encodingForAccept, mediaTypeOf } from '../lib/world-proxy/codec.js'
import { WorldLane } from '../lib/world-proxy/lane.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The World as the internal lane (`/v1/world/**`, `/v1/queue/**`) serves it. */
    worldLane: WorldLane
  }
  interface FastifyReply {
    /** Sends a World value in the encoding the request accepts (CBOR, else tagged JSON). */
    sendWorldValue (value: unknown): FastifyReply
  }
}

export interface WorldLanePluginOptions {
  /** Silence before a live read sends a PING frame. */
  pingIntervalMs?: number
}

export default fp<WorldLanePluginOptions>(async function worldLanePlugin (fastify, opts) {
  const lane = new WorldLane(fastify.workflowWorld, { pingIntervalMs: opts.pingIntervalMs })
  fastify.decorate('worldLane', lane)
  // Encoded here, as bytes: the tagged form and CBOR are not what Fastify's JSON serializer writes.
  fastify.decorateReply('sendWorldValue', function sendWorldValue (this: FastifyReply, value: unknown) {
    const encoding = encodingForAccept(this.request.headers.accept)
    return this.type(mediaTypeOf(encoding)).send(Buffer.from(encodeBody(value, encoding)))
  })

  // Open live reads would keep the server from closing; their clients resume elsewhere.
  fastify.addHook('preClose', async () => { lane.stopLiveReads() })
}, { name: 'compute-worker-world-lane', fastify: '5.x', dependencies: ['compute-worker-world'] })
