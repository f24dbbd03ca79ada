import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { LANE_BODY_LIMITS } from '../../../../lib/world-proxy/limits.js'
import { AUTHENTICATED_ERRORS, ErrorResponse } from '../../../../lib/schemas/common.js'
import {
  CorrelatedEventPage,
  CreateEventBody,
  EventEntity,
  EventPage,
  EventResultResponse,
  ListEventsByCorrelationBody,
  ResolveDataQuery,
  RunScopedListBody,
  WORLD_ERRORS
} from '../../../../lib/schemas/world.js'

const events: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/create', {
    bodyLimit: LANE_BODY_LIMITS.eventCreate,
    config: { audit: { action: 'world.events.create', aggregate: true } },
    schema: {
      summary: 'world.events.create(runId, data, params)',
      description: 'Answers 200 with what the World returned, including its two surprising shapes: a hook_conflict event ' +
        '(no hook) for a taken hook token, and { run, maxEvents } without an event for run_started on a running run.',
      tags: ['world'],
      body: CreateEventBody,
      response: { 200: EventResultResponse, 413: ErrorResponse, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const { runId, data, params } = request.body
    request.auditFacts = { kind: data.eventType, runId: runId ?? undefined }
    return reply.sendWorldValue(await fastify.worldLane.createEvent(runId, data, params))
  })

  fastify.post('/list', {
    schema: {
      summary: 'world.events.list(params)',
      tags: ['world'],
      body: RunScopedListBody,
      response: { 200: EventPage, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => reply.sendWorldValue(await fastify.worldLane.listEvents(request.body)))

  fastify.post('/list-by-correlation', {
    schema: {
      summary: 'world.events.listByCorrelationId(params)',
      tags: ['world'],
      body: ListEventsByCorrelationBody,
      response: { 200: CorrelatedEventPage, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => reply.sendWorldValue(await fastify.worldLane.listEventsByCorrelationId(request.body)))

  fastify.get('/:runId/:eventId', {
    schema: {
      summary: 'world.events.get(runId, eventId, params)',
      tags: ['world'],
      params: Type.Object({ runId: Type.String({ minLength: 1 }), eventId: Type.String({ minLength: 1 }) }),
      querystring: ResolveDataQuery,
      response: { 200: EventEntity, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const { runId, eventId } = request.params
    return reply.sendWorldValue(await fastify.worldLane.getEvent(runId, eventId, request.query.resolveData))
  })
}

export default events
