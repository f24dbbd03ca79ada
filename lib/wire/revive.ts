import { WorkflowWorldError } from '@workflow/errors'
import {
  EventSchema,
  HookSchema,
  PaginatedResponseSchema,
  StepSchema,
  WaitSchema,
  WorkflowRunSchema,
  type Event,
  type EventResult,
  type Hook,
  type PaginatedResponse,
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

function toDate (value: unknown): unknown {
  return typeof value === 'string' || typeof value === 'number' ? new Date(value) : value
}

/**
 * An event by `EventSchema`; failing that, its declared dates one by one. With
 * `resolveData: 'none'` world-local drops `eventData` that the schema requires (a known gap,
 * see the TODO on BaseEventSchema in @workflow/world 4.5 src/events.ts), and such events are
 * still what the World answered.
 */
function reviveEvent (value: unknown): Event {
  const parsed = (EventSchema as unknown as Parser<Event>).safeParse(value)
  if (parsed.success) return parsed.data
  if (value === null || typeof value !== 'object') return parseWith(EventSchema as unknown as Parser<Event>, value, 'event')
  const event = { ...(value as Record<string, unknown>) }
  event.createdAt = toDate(event.createdAt)
  if (event.occurredAt !== undefined) event.occurredAt = toDate(event.occurredAt)
  if (event.eventData !== null && typeof event.eventData === 'object') {
    const eventData = { ...(event.eventData as Record<string, unknown>) }
    if (eventData.resumeAt !== undefined) eventData.resumeAt = toDate(eventData.resumeAt)
    if (eventData.retryAfter !== undefined) eventData.retryAfter = toDate(eventData.retryAfter)
    event.eventData = eventData
  }
  return event as unknown as Event
}

function reviveEventPage (value: unknown): PaginatedResponse<Event> {
  const page = value as PaginatedResponse<unknown>
  if (page === null || typeof page !== 'object' || !Array.isArray(page.data)) {
    throw new WorkflowWorldError('Schema validation failed for events page: no data array')
  }
  return { ...page, data: page.data.map(reviveEvent) }
}

export const revive = {
  run: (value: unknown) => parseWith(WorkflowRunSchema as Parser<WorkflowRun>, value, 'run'),
  step: (value: unknown) => parseWith(StepSchema as Parser<Step>, value, 'step'),
  hook: (value: unknown) => parseWith(HookSchema as Parser<Hook>, value, 'hook'),
  event: reviveEvent,
  runs: (value: unknown) => parseWith(PaginatedRuns as Parser<PaginatedResponse<WorkflowRun>>, value, 'runs page'),
  steps: (value: unknown) => parseWith(PaginatedSteps as Parser<PaginatedResponse<Step>>, value, 'steps page'),
  hooks: (value: unknown) => parseWith(PaginatedHooks as Parser<PaginatedResponse<Hook>>, value, 'hooks page'),
  events: reviveEventPage,

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
