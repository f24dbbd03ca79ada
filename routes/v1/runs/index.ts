import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { WorkflowRun } from '@workflow/world'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { DomainError } from '../../../lib/errors.js'
import { STREAM_START_INDEX_HEADER } from '../../../lib/headers.js'
import { cancelRun, listRunHooks, resumeHook, resumeHookById, type ResumeOptions } from '../../../lib/runs/control.js'
import { listRunEvents, listRuns } from '../../../lib/runs/listing.js'
import { openRunStream, streamBody, type StreamFormat } from '../../../lib/runs/stream.js'
import { newRunId, type TriggerPlan } from '../../../lib/runs/trigger.js'
import { decodeRunData, runView } from '../../../lib/runs/view.js'
import { LANE_BODY_LIMITS } from '../../../lib/world-proxy/limits.js'
import { AUTHENTICATED_ERRORS, ErrorResponse } from '../../../lib/schemas/common.js'
import {
  EventList, EventsQuery, HookList, HookParams, HooksQuery, ListRunsQuery, ResumeBody, ResumeHookBody, ResumeResponse,
  Run, RunList, RunParams, RunQuery, RunSummary, StreamQuery, TriggerBody, TriggerHeaders
} from '../../../lib/schemas/runs.js'

// A trigger's input and a resume's payload each become one World event: the internal lane's limit for one.
const RUN_BODY_LIMIT = LANE_BODY_LIMITS.eventCreate

const tags = ['runs']
const ERRORS = { 400: ErrorResponse, 404: ErrorResponse, ...AUTHENTICATED_ERRORS }

/** SSE unless the client asks for ndjson. */
function streamFormat (accept: string | undefined): StreamFormat {
  return accept !== undefined && /application\/(x-)?ndjson/.test(accept) && !accept.includes('text/event-stream') ? 'ndjson' : 'sse'
}

function lastEventIndex (header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined || value === '') return undefined
  if (!/^\d{1,9}$/.test(value)) {
    throw new DomainError('validation_error', 'Last-Event-ID must be a chunk index', {
      details: { validation: [{ in: 'headers', path: '/last-event-id', message: 'must be a non-negative integer' }] }
    })
  }
  return Number(value) + 1
}

// Fastify's default Ajv coerces a scalar into a one-element array; a trigger's arguments must be one.
async function refuseScalarInput (request: FastifyRequest): Promise<void> {
  const input = (request.body as { input?: unknown } | null)?.input
  if (input !== undefined && !Array.isArray(input)) {
    throw new DomainError('validation_error', 'body/input must be an array of arguments', {
      details: { validation: [{ in: 'body', path: '/input', message: 'must be array' }] }
    })
  }
}

function resumeOptions (request: FastifyRequest): ResumeOptions {
  return {
    correlationId: request.correlationId,
    onEnqueueFailure: (error, runId) => request.log.error({ err: error, runId }, 'resume: the run could not be woken up')
  }
}

const runs: FastifyPluginAsyncTypebox = async (fastify) => {
  const world = fastify.workflowWorld
  // Live streams would hold a graceful shutdown open: end them first (without `end`, so clients reconnect).
  const shutdown = new AbortController()
  fastify.addHook('preClose', async () => { shutdown.abort() })

  fastify.post('/', {
    bodyLimit: RUN_BODY_LIMIT,
    config: {
      scope: 'trigger:write',
      audit: 'runs.trigger',
      idempotency: { scope: 'POST /v1/runs', newReference: newRunId }
    },
    preValidation: refuseScalarInput,
    schema: {
      tags,
      summary: 'Trigger a run (Idempotency-Key required); created exactly as the SDK start() creates it',
      headers: TriggerHeaders,
      body: TriggerBody,
      response: { 202: RunSummary, 409: ErrorResponse, ...ERRORS }
    }
  }, async (request, reply) => {
    request.auditFacts = { target: request.body.workflowName, metadata: { idempotencyKey: request.idempotencyKey } }
    const summary = await reply.idempotent<RunSummary, TriggerPlan>((claim) =>
      fastify.runTrigger.start(claim, request.body, { correlationId: request.correlationId }),
    { plan: async () => await fastify.runTrigger.resolveTarget(request.body) })
    request.auditFacts = { target: summary.workflowName, runId: summary.runId, metadata: { idempotencyKey: request.idempotencyKey, deploymentId: summary.deploymentId } }
    return summary
  })

  fastify.get('/', {
    config: { scope: 'runs:read' },
    schema: {
      tags,
      summary: 'List runs, newest first, by status, workflow and deployment',
      querystring: ListRunsQuery,
      response: { 200: RunList, ...ERRORS }
    }
  }, async (request) => {
    const { limit, cursor, ...filter } = request.query
    return await listRuns(world, filter, limit, cursor)
  })

  fastify.get('/:id', {
    config: { scope: 'runs:read' },
    schema: {
      tags,
      summary: 'A run, with its input and output decoded to JSON (resolveData=none skips them)',
      params: RunParams,
      querystring: RunQuery,
      response: { 200: Run, ...ERRORS }
    }
  }, async (request) => {
    const resolveData = request.query.resolveData
    const run = await world.runs.get(request.params.id, { resolveData })
    const view = runView(run)
    return resolveData === 'all' ? { ...view, ...await decodeRunData(world, run as WorkflowRun) } : view
  })

  fastify.post('/:id/cancel', {
    config: { scope: 'runs:write', audit: 'runs.cancel' },
    schema: {
      tags,
      summary: "Cancel a run (the SDK's run_cancelled event)",
      params: RunParams,
      response: { 200: Run, 409: ErrorResponse, ...ERRORS }
    }
  }, async (request) => {
    request.auditFacts = { target: request.params.id, runId: request.params.id }
    return runView(await cancelRun(world, request.params.id))
  })

  fastify.post('/resume', {
    bodyLimit: RUN_BODY_LIMIT,
    config: { scope: 'runs:write', audit: 'runs.resume' },
    schema: {
      tags,
      summary: 'Deliver a payload to the hook waiting on a token, as resumeHook() does',
      body: ResumeBody,
      response: { 200: ResumeResponse, 409: ErrorResponse, ...ERRORS }
    }
  }, async (request) => {
    const resumed = await resumeHook(world, request.body.token, request.body.payload, resumeOptions(request))
    request.auditFacts = { target: resumed.hookId, runId: resumed.runId }
    return resumed
  })

  fastify.get('/:id/hooks', {
    config: { scope: 'runs:read' },
    schema: {
      tags,
      summary: 'The hooks a run waits on, oldest first (no tokens)',
      params: RunParams,
      querystring: HooksQuery,
      response: { 200: HookList, ...ERRORS }
    }
  }, async (request) => await listRunHooks(world, request.params.id, request.query.limit, request.query.cursor))

  fastify.post('/:id/hooks/:hookId/resume', {
    bodyLimit: RUN_BODY_LIMIT,
    config: { scope: 'runs:write', audit: 'runs.resume' },
    schema: {
      tags,
      summary: 'Deliver a payload to one of the hooks a run waits on, named by its id (no token needed)',
      params: HookParams,
      body: ResumeHookBody,
      response: { 200: ResumeResponse, 409: ErrorResponse, ...ERRORS }
    }
  }, async (request) => {
    request.auditFacts = { target: request.params.hookId, runId: request.params.id }
    return await resumeHookById(world, request.params.id, request.params.hookId, request.body?.payload, resumeOptions(request))
  })

  fastify.get('/:id/events', {
    config: { scope: 'runs:read' },
    schema: {
      tags,
      summary: "A run's events, oldest first (no payloads, no tokens)",
      params: RunParams,
      querystring: EventsQuery,
      response: { 200: EventList, ...ERRORS }
    }
  }, async (request) => await listRunEvents(world, request.params.id, request.query.limit, request.query.cursor))

  fastify.get('/:id/stream', {
    config: { scope: 'runs:read' },
    schema: {
      tags,
      summary: "The run's default output stream, live: SSE (text/event-stream) or ndjson by Accept; resumable by index",
      produces: ['text/event-stream', 'application/x-ndjson'],
      params: RunParams,
      querystring: StreamQuery,
      // A live stream: Fastify never serializes it.
      response: { 200: Type.Unknown({ description: 'text/event-stream (id = chunk index) or application/x-ndjson' }), ...ERRORS }
    }
  }, async (request, reply) => {
    const startIndex = request.query.startIndex ?? lastEventIndex(request.headers['last-event-id']) ?? 0
    const stream = await openRunStream(world, request.params.id, startIndex)
    const format = streamFormat(request.headers.accept)
    const body = streamBody(stream, format, { signal: shutdown.signal, onError: (error) => request.log.warn({ err: error }, 'run stream failed') })
    // Node sends the headers with the first chunk, and a waiting run has none yet: the client
    // would see nothing, not even the status. Fastify pipes the body once its headers are set.
    reply.raw.once('pipe', () => { reply.raw.flushHeaders() })
    return reply
      .header('content-type', format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-accel-buffering', 'no')
      .header(STREAM_START_INDEX_HEADER, String(stream.startIndex))
      .send(body)
  })
}

export default runs
