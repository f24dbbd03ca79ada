import type { FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { encodeBody, encodingForAccept, mediaTypeOf } from '../lib/wire/codec.js'
import { WorldLane } from '../lib/world-proxy/lane.js'
import { MutationAuditAggregator } from '../lib/world-proxy/mutation-audit.js'
import { RUN_ID_HEADER } from './correlation.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The World as the internal lane (`/v1/world/**`, `/v1/queue/**`) serves it. */
    worldLane: WorldLane
    /** Aggregated audit rows of the lane's mutations. */
    worldMutationAudit: MutationAuditAggregator
  }
  interface FastifyReply {
    /** Sends a World value in the encoding the request accepts (CBOR, else tagged JSON). */
    sendWorldValue (value: unknown): FastifyReply
  }
  interface FastifyRequest {
    /** What a lane mutation touched, for its aggregated audit row. */
    worldMutation: { kind?: string, runId?: string } | null
  }
  interface FastifyContextConfig {
    /** Marks an internal-lane route as a mutation: counted in the aggregated audit. */
    worldMutation?: string
  }
}

export interface WorldLanePluginOptions {
  /** Silence before a live read sends a PING frame. */
  pingIntervalMs?: number
  /** Audit aggregation window. */
  auditWindowMs?: number
}

export default fp<WorldLanePluginOptions>(async function worldLanePlugin (fastify, opts) {
  const lane = new WorldLane(fastify.workflowWorld, { pingIntervalMs: opts.pingIntervalMs })
  const audit = new MutationAuditAggregator((entry) => fastify.auditLog.record(entry), opts.auditWindowMs)
  fastify.decorate('worldLane', lane)
  fastify.decorate('worldMutationAudit', audit)
  fastify.decorateRequest('worldMutation', null)
  // Encoded here, as bytes: the tagged form and CBOR are not what Fastify's JSON serializer writes.
  fastify.decorateReply('sendWorldValue', function sendWorldValue (this: FastifyReply, value: unknown) {
    const encoding = encodingForAccept(this.request.headers.accept)
    return this.type(mediaTypeOf(encoding)).send(Buffer.from(encodeBody(value, encoding)))
  })

  fastify.addHook('onResponse', async (request, reply) => {
    const action = request.routeOptions.config?.worldMutation
    if (action === undefined) return
    const header = request.headers[RUN_ID_HEADER]
    audit.record({
      action,
      actorKeyId: request.callerKey?.id ?? null,
      statusCode: reply.statusCode,
      correlationId: request.correlationId,
      kind: request.worldMutation?.kind,
      runId: request.worldMutation?.runId ?? (typeof header === 'string' ? header : undefined)
    })
  })

  // Open live reads would keep the server from closing; their clients resume elsewhere.
  fastify.addHook('preClose', async () => { lane.stopLiveReads() })
  fastify.addHook('onClose', async () => { audit.close() })
}, { name: 'compute-worker-world-lane', fastify: '5.x', dependencies: ['compute-worker-world', 'compute-worker-storage', 'compute-worker-auth'] })
