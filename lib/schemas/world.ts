import { Type, type Static } from 'typebox'
import { ErrorResponse } from './common.js'
import {
  createEventExample, DEPLOYMENT_ID, eventResultExample, HOOK_ID, queuePublishExample, queuePublishResultExample, RUN_ID,
  STREAM_NAME, streamChunksExample, streamWriteExample, WORKFLOW_ID, worldEventExample, worldEventPageExample, worldHookEventPageExample,
  worldHookExample, worldHookPageExample, worldRunExample, worldRunPageExample, worldStepExample, worldStepPageExample
} from './examples.js'
import { RunStatus } from './runs.js'

/**
 * Envelopes of the internal lane. Bodies travel as tagged JSON (bytes as
 * `{ "__type": "Uint8Array", "data": "<base64>" }`, dates as ISO strings) or as CBOR; the World's
 * own payloads inside them (event data, queue messages, entities) are checked by the World's zod
 * schemas, so they are declared loosely here.
 */
const Bytes = Type.Unknown({ description: 'Binary: tagged `{ __type: "Uint8Array", data: base64 }` in JSON, a byte string in CBOR' })
const Id = Type.String({ minLength: 1, maxLength: 512 })
/** An optional filter; empty means no filter, as the Worlds read it (`if (params.runId && …)`). */
const Filter = (maxLength: number, description: string) => Type.String({ maxLength, description })

export const ResolveData = Type.Union([Type.Literal('all'), Type.Literal('none')], { description: 'default all' })

/** Every cursor the SDK's callers send: the CLI's is `''` unless given (see isFirstPageCursor). */
export const Pagination = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'clamped to 1000' })),
  cursor: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()], {
    description: 'opaque, from a previous page; passed to the World verbatim. Empty or null: the first page'
  })),
  sortOrder: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')]))
}, { additionalProperties: false })

export const ResolveDataQuery = Type.Object({ resolveData: Type.Optional(ResolveData) })

const Entity = (title: string, description: string, example: Record<string, unknown>) =>
  Type.Object({}, { additionalProperties: true, title, description, examples: [example] })

export const WorkflowRunEntity = Entity('WorkflowRun', 'A @workflow/world WorkflowRun (input/output as bytes)', worldRunExample)
export const StepEntity = Entity('Step', 'A @workflow/world Step', worldStepExample)
export const HookEntity = Entity('Hook', 'A @workflow/world Hook (its token is a bearer secret)', worldHookExample)
export const EventEntity = Entity('Event', 'A @workflow/world Event', worldEventExample)

/** A World page (`PaginatedResponse` of @workflow/world): the cursor is the World's, opaque. */
const Paginated = (item: typeof EventEntity, example: { data: unknown[], cursor: string | null, hasMore: boolean }) => Type.Object({
  data: Type.Array(item),
  cursor: Type.Union([Type.String(), Type.Null()]),
  hasMore: Type.Boolean()
}, { additionalProperties: true, examples: [example] })

export const EventPage = Paginated(EventEntity, worldEventPageExample)
/** events.listByCorrelationId: the events of one step, hook or wait. */
export const CorrelatedEventPage = Paginated(EventEntity, worldHookEventPageExample)
export const RunPage = Paginated(WorkflowRunEntity, worldRunPageExample)
export const StepPage = Paginated(StepEntity, worldStepPageExample)
export const HookPage = Paginated(HookEntity, worldHookPageExample)

export const EventResultResponse = Type.Object({
  event: Type.Optional(EventEntity),
  run: Type.Optional(WorkflowRunEntity),
  step: Type.Optional(StepEntity),
  hook: Type.Optional(HookEntity),
  wait: Type.Optional(Type.Unknown()),
  events: Type.Optional(Type.Array(EventEntity)),
  cursor: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  hasMore: Type.Optional(Type.Boolean()),
  maxEvents: Type.Optional(Type.Number())
}, { additionalProperties: true, title: 'EventResult', examples: [eventResultExample] })

export const CreateEventBody = Type.Object({
  runId: Type.Union([Id, Type.Null()], { description: 'null only for run_created (the World makes the id)' }),
  data: Type.Object({ eventType: Type.String() }, { additionalProperties: true, description: 'A CreateEventRequest of @workflow/world' }),
  params: Type.Optional(Type.Object({
    v1Compat: Type.Optional(Type.Boolean()),
    resolveData: Type.Optional(ResolveData),
    requestId: Type.Optional(Type.String({ maxLength: 512 })),
    stateUpdatedAt: Type.Optional(Type.Number({ description: 'epoch ms' })),
    occurredAt: Type.Optional(Type.Unknown({ description: 'a date (ISO string in JSON)' }))
  }, { additionalProperties: false }))
}, { examples: [createEventExample] })
export type CreateEventBody = Static<typeof CreateEventBody>

/** events.list and steps.list: one run's entities, a page at a time. */
export const RunScopedListBody = Type.Object({
  runId: Id,
  pagination: Type.Optional(Pagination),
  resolveData: Type.Optional(ResolveData)
}, { additionalProperties: false, examples: [{ runId: RUN_ID, pagination: { limit: 100 } }] })

export const ListEventsByCorrelationBody = Type.Object({
  correlationId: Id,
  runId: Type.Optional(Type.String({ maxLength: 512, description: 'the run the correlation id belongs to' })),
  pagination: Type.Optional(Pagination),
  resolveData: Type.Optional(ResolveData)
}, { additionalProperties: false, examples: [{ correlationId: HOOK_ID, runId: RUN_ID }] })

export const ListRunsBody = Type.Object({
  workflowName: Type.Optional(Filter(1024, 'the workflow id; empty: every workflow')),
  status: Type.Optional(RunStatus),
  pagination: Type.Optional(Pagination),
  resolveData: Type.Optional(ResolveData)
}, { additionalProperties: false, examples: [{ workflowName: WORKFLOW_ID, status: 'completed', pagination: { limit: 1, sortOrder: 'desc' } }] })

export const ListHooksBody = Type.Object({
  runId: Type.Optional(Filter(512, "one run's hooks; empty: every run's")),
  pagination: Type.Optional(Pagination),
  resolveData: Type.Optional(ResolveData)
}, { additionalProperties: false, examples: [{ runId: RUN_ID }] })

export const QueuePublishBody = Type.Object({
  queueName: Type.String({ minLength: 1, maxLength: 1024, description: 'matches ValidQueueName: __[ns_]wkf_{workflow|step}_…' }),
  message: Type.Object({}, { additionalProperties: true, description: 'A QueuePayload of @workflow/world' }),
  opts: Type.Optional(Type.Object({
    deploymentId: Type.Optional(Type.String({ maxLength: 512 })),
    idempotencyKey: Type.Optional(Type.String({ maxLength: 512 })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    delaySeconds: Type.Optional(Type.Number({ minimum: 0 })),
    specVersion: Type.Optional(Type.Integer({ minimum: 1 }))
  }, { additionalProperties: false }))
}, { examples: [queuePublishExample] })

export const QueuePublishResponse = Type.Object({ messageId: Type.Union([Type.String(), Type.Null()]) }, { examples: [queuePublishResultExample] })
export const DeploymentIdResponse = Type.Object({ deploymentId: Type.String() }, { examples: [{ deploymentId: DEPLOYMENT_ID }] })

export const WorldInfoResponse = Type.Object({
  specVersion: Type.Integer(),
  deploymentId: Type.String(),
  encryption: Type.Boolean({ description: 'whether the World derives per-run encryption keys' }),
  resolveLatestDeployment: Type.Boolean()
}, { examples: [{ specVersion: 3, deploymentId: DEPLOYMENT_ID, encryption: false, resolveLatestDeployment: false }] })

export const EncryptionKeyBody = Type.Object({
  runId: Id,
  context: Type.Optional(Type.Object({ deploymentId: Type.Optional(Type.String({ maxLength: 512 })) }, { additionalProperties: false }))
}, { additionalProperties: false, examples: [{ runId: RUN_ID, context: { deploymentId: DEPLOYMENT_ID } }] })
export const EncryptionKeyResponse = Type.Object({
  key: Type.Union([Bytes, Type.Null()], { description: '32 raw bytes; null when the World does not encrypt' })
}, { examples: [{ key: { __type: 'Uint8Array', data: 'zDmV/zuB+qrd9TmoWAY8skkvr7ehgqhDPppyYPoh67k=' } }] })

export const StreamTarget = Type.Object({ name: Id, runId: Id })

export const StreamWriteQuery = Type.Object({ name: Type.Optional(Id), runId: Type.Optional(Id) })
export const StreamWriteBody = Type.Unknown({
  description: 'application/octet-stream: the chunk (or, with x-stream-multi: true, u32be length ‖ bytes per chunk), name and runId in the query; ' +
    'JSON/CBOR: { name, runId, chunk } or { name, runId, chunks: [] }, each chunk bytes or a string',
  // The JSON/CBOR form; the raw-bytes form's example is the document's (http/openapi/media-examples.ts).
  examples: [streamWriteExample]
})

export const StreamReadQuery = Type.Object({
  name: Id,
  startIndex: Type.Optional(Type.Integer({ description: 'negative: that many chunks before the current end' })),
  runId: Type.Optional(Id)
})

export const StreamChunksQuery = Type.Object({
  name: Id,
  runId: Id,
  cursor: Type.Optional(Type.String({ maxLength: 2048, description: 'from a previous page; empty: the first page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'default 100, clamped to 1000' }))
})

export const StreamChunksResponse = Type.Object({
  data: Type.Array(Type.Object({ index: Type.Integer(), data: Bytes })),
  cursor: Type.Union([Type.String(), Type.Null()]),
  hasMore: Type.Boolean(),
  done: Type.Boolean()
}, { examples: [streamChunksExample] })

export const StreamInfoResponse = Type.Object({
  tailIndex: Type.Integer({ description: '-1 when empty' }),
  done: Type.Boolean()
}, { examples: [{ tailIndex: 1, done: true }] })
export const StreamListResponse = Type.Object({ streams: Type.Array(Type.String()) }, { examples: [{ streams: [STREAM_NAME] }] })

/** Errors a World call can answer with, besides those of every authenticated route. */
export const WORLD_ERRORS = {
  400: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  410: ErrorResponse,
  412: ErrorResponse,
  422: ErrorResponse,
  425: ErrorResponse
} as const
