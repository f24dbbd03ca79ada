import { WorkflowWorldError } from '@workflow/errors'
import {
  CreateEventSchema,
  QueuePayloadSchema,
  ValidQueueName,
  type CreateEventParams,
  type QueuePayload
} from '@workflow/world'

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
