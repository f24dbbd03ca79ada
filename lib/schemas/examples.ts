import { encodeCursor } from '../pagination.js'

/**
 * The one story the OpenAPI examples tell: order 42 goes through `processOrder`, whose step
 * `chargeCard` completes and whose hook `approval:42` waits for a person. Ids have the shapes
 * their makers give them (`wrun_`/`dpl_`/`evnt_`/`step_`/`hook_` + a ULID), World entities are
 * what world-local 4.4 returns for these events, in the lane's tagged JSON (bytes as
 * `{ __type: 'Uint8Array', data }`). Each schema's test checks its example against it.
 */

export const RUN_ID = 'wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F'
export const DEPLOYMENT_ID = 'dpl_01JD8Q5R1T7Y3V9K5N1P7A3S9D'
export const WORKFLOW_ID = 'workflow//./workflows/order//processOrder'
export const STEP_ID = 'step_01JD8Q7W8N4P6Q8R0S2T4V6W8X'
export const STEP_NAME = 'step//./workflows/order//chargeCard'
export const HOOK_ID = 'hook_01JD8Q9C5V1B7N3M9K5J1H7G3F'
export const HOOK_TOKEN = 'approval:42'

const CREATED_AT = '2026-01-15T09:30:00.000Z'
const STARTED_AT = '2026-01-15T09:30:00.050Z'
const STEP_CREATED_AT = '2026-01-15T09:30:00.120Z'
const STEP_STARTED_AT = '2026-01-15T09:30:00.180Z'
const STEP_COMPLETED_AT = '2026-01-15T09:30:01.940Z'
const HOOK_CREATED_AT = '2026-01-15T09:30:02.010Z'
const COMPLETED_AT = '2026-01-15T09:30:02.480Z'

/** Bytes in the lane's tagged JSON; a string is the SDK's serialized text (`devl` + devalue). */
export function taggedBytes (bytes: string | Uint8Array): { __type: 'Uint8Array', data: string } {
  return { __type: 'Uint8Array', data: Buffer.from(bytes).toString('base64') }
}

/** One stream chunk as the SDK writes it (getSerializeStream): `u32be(length) ‖ devl ‖ devalue`. */
export function sdkStreamChunk (devalue: string): Uint8Array {
  const payload = Buffer.from(`devl${devalue}`)
  const chunk = Buffer.alloc(4 + payload.length)
  chunk.writeUInt32BE(payload.length, 0)
  payload.copy(chunk, 4)
  return new Uint8Array(chunk)
}

/** A World cursor (`<ISO>|<id>`, world-local's), wrapped as the public routes wrap it. */
const publicCursor = (worldCursor: string) => encodeCursor({ w: worldCursor })

const EXECUTION_CONTEXT = { workflowCoreVersion: '4.8.9', features: { encryption: false } }
const RUN_INPUT = taggedBytes('devl[[1],{"orderId":2,"items":3},42,[4,5],"sku-1","sku-2"]')
const RUN_OUTPUT = taggedBytes('devl[{"orderId":1,"charged":2,"total":3},42,true,129.9]')
const STEP_INPUT = taggedBytes('devl[[1,2],42,129.9]')
const STEP_OUTPUT = taggedBytes('devl[{"chargeId":1,"amount":2},"ch_3PqL9x",129.9]')

// ---- The World's entities (internal lane) ----

export const worldRunExample = {
  runId: RUN_ID,
  status: 'completed',
  deploymentId: DEPLOYMENT_ID,
  workflowName: WORKFLOW_ID,
  specVersion: 3,
  executionContext: EXECUTION_CONTEXT,
  input: RUN_INPUT,
  output: RUN_OUTPUT,
  startedAt: STARTED_AT,
  completedAt: COMPLETED_AT,
  createdAt: CREATED_AT,
  updatedAt: COMPLETED_AT
}

export const worldStepExample = {
  runId: RUN_ID,
  stepId: STEP_ID,
  stepName: STEP_NAME,
  status: 'completed',
  input: STEP_INPUT,
  output: STEP_OUTPUT,
  attempt: 1,
  startedAt: STEP_STARTED_AT,
  completedAt: STEP_COMPLETED_AT,
  createdAt: STEP_CREATED_AT,
  updatedAt: STEP_COMPLETED_AT,
  specVersion: 3
}

export const worldHookExample = {
  runId: RUN_ID,
  hookId: HOOK_ID,
  token: HOOK_TOKEN,
  ownerId: 'local-owner',
  projectId: 'local-project',
  environment: 'local',
  createdAt: HOOK_CREATED_AT,
  specVersion: 3,
  isWebhook: false
}

const runCreatedEvent = {
  eventType: 'run_created',
  specVersion: 3,
  eventData: { deploymentId: DEPLOYMENT_ID, workflowName: WORKFLOW_ID, input: RUN_INPUT, executionContext: EXECUTION_CONTEXT },
  runId: RUN_ID,
  eventId: 'evnt_01JD8Q7W3X9V2C4N6B8M0K2H4E',
  createdAt: CREATED_AT
}

const runStartedEvent = {
  eventType: 'run_started',
  specVersion: 3,
  runId: RUN_ID,
  eventId: 'evnt_01JD8Q7W5A2B4C6D8E0F1G3H5J',
  createdAt: STARTED_AT
}

const stepCompletedEvent = {
  eventType: 'step_completed',
  specVersion: 3,
  correlationId: STEP_ID,
  eventData: { stepName: STEP_NAME, workflowName: WORKFLOW_ID, result: STEP_OUTPUT },
  runId: RUN_ID,
  eventId: 'evnt_01JD8Q9BZ4K6M8N0P2Q4R6S8T0',
  createdAt: STEP_COMPLETED_AT
}

const hookCreatedEvent = {
  eventType: 'hook_created',
  specVersion: 3,
  correlationId: HOOK_ID,
  eventData: { token: HOOK_TOKEN, isWebhook: false },
  runId: RUN_ID,
  eventId: 'evnt_01JD8Q9C5V1B7N3M9K5J1H7G3G',
  createdAt: HOOK_CREATED_AT
}

export const worldEventExample = stepCompletedEvent

/** `events.create` of a hook: the request, and the World's `{ event, hook }`. */
export const createEventExample = {
  runId: RUN_ID,
  data: { eventType: 'hook_created', specVersion: 3, correlationId: HOOK_ID, eventData: { token: HOOK_TOKEN, isWebhook: false } }
}
export const eventResultExample = { event: hookCreatedEvent, hook: worldHookExample }

export const worldEventPageExample = {
  data: [runCreatedEvent, runStartedEvent],
  cursor: `${STARTED_AT}|${runStartedEvent.eventId}`,
  hasMore: true
}
export const worldHookEventPageExample = { data: [hookCreatedEvent], cursor: `${HOOK_CREATED_AT}|${hookCreatedEvent.eventId}`, hasMore: false }
export const worldRunPageExample = { data: [worldRunExample], cursor: `${CREATED_AT}|${RUN_ID}`, hasMore: true }
export const worldStepPageExample = { data: [worldStepExample], cursor: `${STEP_CREATED_AT}|${STEP_ID}`, hasMore: false }
export const worldHookPageExample = { data: [worldHookExample], cursor: `${HOOK_CREATED_AT}|${HOOK_ID}`, hasMore: false }

/** A step's queue message, as the runtime publishes it (idempotent by step id). */
export const queuePublishExample = {
  queueName: '__wkf_step_step//./workflows/order//chargeCard',
  message: { workflowName: WORKFLOW_ID, workflowRunId: RUN_ID, workflowStartedAt: Date.parse(STARTED_AT), stepId: STEP_ID },
  opts: { deploymentId: DEPLOYMENT_ID, idempotencyKey: STEP_ID, specVersion: 3 }
}
export const queuePublishResultExample = { messageId: 'msg_01JD8QA1B3D5F7H9K1M3N5Q7S9' }

/** The run's default output stream (`getWritable()`), as the SDK names it. */
export const STREAM_NAME = `strm_${RUN_ID.slice('wrun_'.length)}_user`

/** What the workflow writes to that stream: each value, and its devalue text. */
export const STREAM_VALUES = [
  { value: { orderId: 42, status: 'charged' }, devalue: '[{"orderId":1,"status":2},42,"charged"]' },
  { value: { orderId: 42, status: 'shipped' }, devalue: '[{"orderId":1,"status":2},42,"shipped"]' }
]
export const STREAM_CHUNKS = STREAM_VALUES.map(({ devalue }) => sdkStreamChunk(devalue))

export const streamWriteExample = { name: STREAM_NAME, runId: RUN_ID, chunk: taggedBytes(STREAM_CHUNKS[0]) }
export const streamChunksExample = {
  data: STREAM_CHUNKS.map((chunk, index) => ({ index, data: taggedBytes(chunk) })),
  cursor: null,
  hasMore: false,
  done: true
}

// ---- The public routes ----

export const publicRunExample = {
  runId: RUN_ID,
  status: 'completed',
  workflowName: WORKFLOW_ID,
  deploymentId: DEPLOYMENT_ID,
  createdAt: CREATED_AT,
  updatedAt: COMPLETED_AT,
  startedAt: STARTED_AT,
  completedAt: COMPLETED_AT,
  output: { orderId: 42, charged: true, total: 129.9 }
}

export const publicRunPageExample = {
  data: [publicRunExample],
  cursor: publicCursor(`${CREATED_AT}|${RUN_ID}`),
  hasMore: true
}

/** A run's events as GET /v1/runs/:id/events shows them: facts, no payloads, no tokens. */
export const publicEventPageExample = {
  data: [
    { eventId: runCreatedEvent.eventId, eventType: 'run_created', createdAt: CREATED_AT, data: { workflowName: WORKFLOW_ID, deploymentId: DEPLOYMENT_ID } },
    { eventId: runStartedEvent.eventId, eventType: 'run_started', createdAt: STARTED_AT },
    { eventId: 'evnt_01JD8Q7W9R3S5T7V9W1X3Y5Z7A', eventType: 'step_created', correlationId: STEP_ID, createdAt: STEP_CREATED_AT, data: { stepName: STEP_NAME } },
    { eventId: 'evnt_01JD8Q7WBK2M4N6P8Q0R2S4T6V', eventType: 'step_started', correlationId: STEP_ID, createdAt: STEP_STARTED_AT, data: { stepName: STEP_NAME, attempt: 1 } },
    { eventId: stepCompletedEvent.eventId, eventType: 'step_completed', correlationId: STEP_ID, createdAt: STEP_COMPLETED_AT, data: { stepName: STEP_NAME } }
  ],
  cursor: publicCursor(`${STEP_COMPLETED_AT}|${stepCompletedEvent.eventId}`),
  hasMore: true
}
