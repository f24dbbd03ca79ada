import { WorkflowWorldError } from '@workflow/errors'
import {
  CreateEventSchema,
  EventSchema,
  HookSchema,
  PaginatedResponseSchema,
  QueuePayloadSchema,
  StepSchema,
  ValidQueueName,
  WaitSchema,
  WorkflowRunSchema,
  type CreateEventParams,
  type Event,
  type EventResult,
  type Hook,
  type PaginatedResponse,
  type QueuePayload,
  type Step,
  type StreamChunksResponse,
  type WorkflowRun
} from '@workflow/world'

/**
 * Revival of tagged-JSON answers with the World's own zod schemas: dates arrive as ISO strings
 * and `z.coerce.date()` turns them back, exactly as world-local does when it reads its files.
 * (CBOR answers carry native dates and bytes and need none of this.)
 */
interface Parser<T> { safeParse (value: unknown): { success: true, data: T } | { success: false, error: unknown } }

function parseWith<T> (schema: Parser<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  // The message prefix is what @workflow/core's classify-error recognizes as a World contract fault.
  throw new WorkflowWorldError(`Schema validation failed for ${what}: ${(result.error as Error).message}`, {
    cause: result.error
  })
}

const PaginatedRuns = PaginatedResponseSchema(WorkflowRunSchema)
const PaginatedSteps = PaginatedResponseSchema(StepSchema)
const PaginatedHooks = PaginatedResponseSchema(HookSchema)
const PaginatedEvents = PaginatedResponseSchema(EventSchema)

export const revive = {
  run: (value: unknown) => parseWith(WorkflowRunSchema as Parser<WorkflowRun>, value, 'run'),
  step: (value: unknown) => parseWith(StepSchema as Parser<Step>, value, 'step'),
  hook: (value: unknown) => parseWith(HookSchema as Parser<Hook>, value, 'hook'),
  event: (value: unknown) => parseWith(EventSchema as Parser<Event>, value, 'event'),
  runs: (value: unknown) => parseWith(PaginatedRuns as Parser<PaginatedResponse<WorkflowRun>>, value, 'runs page'),
  steps: (value: unknown) => parseWith(PaginatedSteps as Parser<PaginatedResponse<Step>>, value, 'steps page'),
  hooks: (value: unknown) => parseWith(PaginatedHooks as Parser<PaginatedResponse<Hook>>, value, 'hooks page'),
  events: (value: unknown) => parseWith(PaginatedEvents as Parser<PaginatedResponse<Event>>, value, 'events page'),

  /** Each entity of an `events.create` result through its own schema; other members as they came. */
  eventResult (value: unknown): EventResult {
    const result = { ...(value as Record<string, unknown>) }
    if (result.event !== undefined) result.event = revive.event(result.event)
    if (result.run !== undefined) result.run = revive.run(result.run)
    if (result.step !== undefined) result.step = revive.step(result.step)
    if (result.hook !== undefined) result.hook = revive.hook(result.hook)
    if (result.wait !== undefined) result.wait = parseWith(WaitSchema, result.wait, 'wait')
    if (Array.isArray(result.events)) result.events = result.events.map((event) => revive.event(event))
    return result as unknown as EventResult
  },

  /** Chunk bytes are already revived by the tagged-JSON decoder; nothing here is a date. */
  streamChunks: (value: unknown) => value as StreamChunksResponse
}

/**
 * Server side: an `events.create` request's `data`, checked and revived by `CreateEventSchema`
 * (dates coerced, unknown keys dropped as world-vercel's allow-list does). Throws a ZodError.
 */
export function parseCreateEventRequest (data: unknown): ReturnType<typeof CreateEventSchema.parse> {
  return CreateEventSchema.parse(data)
}

export function parseQueueRequest (queueName: unknown, message: unknown): { queueName: ValidQueueName, message: QueuePayload } {
  return { queueName: ValidQueueName.parse(queueName), message: QueuePayloadSchema.parse(message) }
}

export interface CreateEventParamsInput {
  v1Compat?: boolean
  resolveData?: 'all' | 'none'
  requestId?: string
  stateUpdatedAt?: number
  occurredAt?: unknown
}

/** `params` of events.create with `occurredAt` revived (an ISO string in JSON, a Date in CBOR). */
export function parseCreateEventParams (params: CreateEventParamsInput | undefined): CreateEventParams {
  if (params === undefined) return {}
  const { occurredAt, ...rest } = params
  if (occurredAt === undefined) return rest
  const date = occurredAt instanceof Date ? occurredAt : typeof occurredAt === 'string' || typeof occurredAt === 'number' ? new Date(occurredAt) : undefined
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new WorkflowWorldError('params.occurredAt is not a date', { status: 400 })
  }
  return { ...rest, occurredAt: date }
}
