import { Type, type Static } from 'typebox'
import { DEPLOYMENT_ID, HOOK_ID, publicEventPageExample, publicRunExample, publicRunPageExample, RUN_ID, WORKFLOW_ID } from './examples.js'
import { PageOf, pageQuery } from './page.js'

/** The World's run status (`WorkflowRunStatus` of @workflow/world). */
export const RunStatus = Type.Union([
  Type.Literal('pending'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed'), Type.Literal('cancelled')
], { description: "The World's run status" })
export type RunStatus = Static<typeof RunStatus>

export const TriggerBody = Type.Object({
  workflowName: Type.String({ minLength: 1, maxLength: 1024, description: 'Workflow id of the manifest, or its export name when unique', examples: ['processOrder'] }),
  input: Type.Array(Type.Unknown(), { default: [], maxItems: 1000, description: 'The workflow arguments' }),
  deploymentId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Default: the active deployment' }))
}, {
  additionalProperties: false,
  examples: [{ workflowName: 'processOrder', input: [{ orderId: 42, items: ['sku-1', 'sku-2'] }] }]
})
export type TriggerBody = Static<typeof TriggerBody>
/** A trigger as callers write it: `input` (the workflow's arguments) defaults to none. */
export type TriggerRequest = Omit<TriggerBody, 'input'> & { input?: unknown[] }

export const TriggerHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Required: 1 to 255 printable characters; a retry with the same key and payload replays the first answer' }))
})

export const RunSummary = Type.Object({
  runId: Type.String({ examples: [RUN_ID] }),
  status: RunStatus,
  workflowName: Type.String({ description: 'The full workflow id' }),
  deploymentId: Type.String(),
  createdAt: Type.String({ format: 'date-time' })
}, {
  title: 'RunSummary',
  examples: [{
    runId: RUN_ID,
    status: 'pending',
    workflowName: WORKFLOW_ID,
    deploymentId: DEPLOYMENT_ID,
    createdAt: publicRunExample.createdAt
  }]
})
export type RunSummary = Static<typeof RunSummary>

const RunError = Type.Object({ message: Type.String(), code: Type.Optional(Type.String()), stack: Type.Optional(Type.String()) })

export const Run = Type.Object({
  runId: Type.String(),
  status: RunStatus,
  workflowName: Type.String(),
  deploymentId: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Optional(Type.String({ format: 'date-time' })),
  completedAt: Type.Optional(Type.String({ format: 'date-time' })),
  input: Type.Optional(Type.Array(Type.Unknown(), { description: 'The workflow arguments, decoded to JSON (GET /v1/runs/:id only)' })),
  output: Type.Optional(Type.Unknown({ description: 'The return value, decoded to JSON (completed runs; GET /v1/runs/:id only)' })),
  error: Type.Optional(RunError)
}, {
  title: 'Run',
  examples: [publicRunExample]
})
export type Run = Static<typeof Run>

export const RunParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' }) })

export const RunQuery = Type.Object({
  resolveData: Type.Union([Type.Literal('all'), Type.Literal('none')], { default: 'all', description: '`none` skips decoding the output' })
})

export const ResumeBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 4096, description: "The hook's token" }),
  payload: Type.Optional(Type.Unknown({ description: 'Delivered to the hook, as resumeHook(token, payload) does' }))
}, { additionalProperties: false, examples: [{ token: 'approval:42', payload: { approved: true, by: 'ops@example.com' } }] })

export const ResumeResponse = Type.Object({ runId: Type.String(), hookId: Type.String() }, {
  examples: [{ runId: RUN_ID, hookId: HOOK_ID }]
})
export type ResumeResponse = Static<typeof ResumeResponse>

export const RunHook = Type.Object({
  hookId: Type.String({ examples: [HOOK_ID] }),
  runId: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  isWebhook: Type.Optional(Type.Boolean({ description: "A createWebhook() hook: resumed by requests to its URL (the token is that URL's secret and is never shown)" }))
}, { title: 'RunHook' })
export type RunHook = Static<typeof RunHook>

export const HookList = PageOf(RunHook, {
  examples: [{ data: [{ hookId: HOOK_ID, runId: RUN_ID, createdAt: '2026-01-15T09:30:02.010Z', isWebhook: false }], cursor: null, hasMore: false }]
})

export type HookList = Static<typeof HookList>

export const HooksQuery = Type.Object(pageQuery(100, 20))

export const HookParams = Type.Object({
  id: RunParams.properties.id,
  hookId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' })
})

export const ResumeHookBody = Type.Object({
  payload: Type.Optional(Type.Unknown({ description: 'Delivered to the hook, as resumeHook(token, payload) does' }))
}, { additionalProperties: false, examples: [{ payload: { approved: true, by: 'ops@example.com' } }] })

export const ListRunsQuery = Type.Object({
  status: Type.Optional(RunStatus),
  workflowName: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Full workflow id or export name' })),
  deploymentId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  ...pageQuery(100, 20)
})

export const RunList = PageOf(Run, { examples: [publicRunPageExample] })
export type RunList = Static<typeof RunList>

export const RunEvent = Type.Object({
  eventId: Type.String(),
  eventType: Type.String(),
  correlationId: Type.Optional(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Non-sensitive event facts (step name, attempt, resumeAt, error message…)' }))
})
export type RunEvent = Static<typeof RunEvent>

export const EventsQuery = Type.Object(pageQuery(1000, 100))

export const EventList = PageOf(RunEvent, { examples: [publicEventPageExample] })
export type EventList = Static<typeof EventList>

export const StreamQuery = Type.Object({
  startIndex: Type.Optional(Type.Integer({ description: 'First chunk index (negative: from the end); default 0, or Last-Event-ID + 1' }))
})
