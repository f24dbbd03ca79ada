import {
  EntityConflictError,
  HookConflictError,
  HookNotFoundError,
  PreconditionFailedError,
  RunExpiredError,
  RunNotSupportedError,
  ThrottleError,
  TooEarlyError,
  WorkflowRunNotFoundError,
  WorkflowWorldError
} from '@workflow/errors'
import { ApiError } from '../errors.js'

/** What the World error classes carry besides their message. */
export interface WorldErrorFields {
  retryAfter?: number
  runId?: string
  token?: string
  conflictingRunId?: string
  runSpecVersion?: number
  worldSpecVersion?: number
}

/** A World error read for HTTP: its status and code, the class name the SDK runtime branches on, its fields. */
export interface WorldErrorMeaning {
  status: number
  code: string
  name: string
  fields: WorldErrorFields
  message: string
}

interface NamedError extends Error, WorldErrorFields {
  status?: number
  code?: string
}

function isNamedError (value: unknown): value is NamedError {
  return typeof value === 'object' && value !== null &&
    typeof (value as Error).name === 'string' && typeof (value as Error).message === 'string'
}

interface NamedMapping {
  is: (value: unknown) => boolean
  status: number
  code: string
  fields?: (error: NamedError) => WorldErrorFields
}

/** The World errors the runtime branches on, recognized by their own `.is()` (a name check). */
const NAMED_ERRORS: NamedMapping[] = [
  { is: WorkflowRunNotFoundError.is, status: 404, code: 'run_not_found', fields: (error) => ({ runId: error.runId }) },
  { is: HookNotFoundError.is, status: 404, code: 'hook_not_found', fields: (error) => ({ token: error.token }) },
  {
    is: HookConflictError.is,
    status: 409,
    code: 'hook_conflict',
    fields: (error) => ({ token: error.token, conflictingRunId: error.conflictingRunId })
  },
  { is: EntityConflictError.is, status: 409, code: 'entity_conflict' },
  { is: RunExpiredError.is, status: 410, code: 'run_expired' },
  { is: PreconditionFailedError.is, status: 412, code: 'precondition_failed' },
  { is: TooEarlyError.is, status: 425, code: 'too_early' },
  { is: ThrottleError.is, status: 429, code: 'rate_limited' },
  // No package gives this one a status; 422 keeps it a non-retryable 4xx.
  {
    is: RunNotSupportedError.is,
    status: 422,
    code: 'run_not_supported',
    fields: (error) => ({ runSpecVersion: error.runSpecVersion, worldSpecVersion: error.worldSpecVersion })
  }
]

const NOT_FOUND = /not found/i

function notFoundCode (message: string): string {
  return /^step\b/i.test(message) ? 'step_not_found' : 'not_found'
}

function meaning (status: number, code: string, error: NamedError, name: string, fields: WorldErrorFields = {}): WorldErrorMeaning {
  const retryAfter = fields.retryAfter ?? error.retryAfter
  return { status, code, name, message: error.message, fields: retryAfter === undefined ? fields : { ...fields, retryAfter } }
}

/**
 * What a World throws, as HTTP (world-proxy.md, "Errors"); both lanes answer with it. 4xx stay
 * below 500: the runtime redelivers on >= 500, so a 4xx sent as 500 would loop forever.
 * Undefined for anything that is not a World error (an ApiError included): the error handler
 * logs it and answers 500.
 */
export function classifyWorldError (error: unknown): WorldErrorMeaning | undefined {
  if (error instanceof ApiError || !isNamedError(error)) return undefined
  const named = NAMED_ERRORS.find((mapping) => mapping.is(error))
  if (named !== undefined) return meaning(named.status, named.code, error, error.name, named.fields?.(error))
  // Request-shape failures: zod's own, world-local's unsafe ids (a WorkflowWorldError subclass).
  if (error.name === 'ZodError' || error.name === 'UnsafeEntityIdError') {
    return meaning(400, 'validation_error', error, 'WorkflowWorldError')
  }
  if (WorkflowWorldError.is(error as unknown)) {
    if (typeof error.status === 'number' && error.status >= 400 && error.status < 600) {
      return meaning(error.status, error.code ?? (error.status >= 500 ? 'internal_error' : 'world_error'), error, error.name)
    }
    // Without a status, world-local and world-postgres use it for "Step/Wait … not found" and
    // for rejected input (a client run id whose ULID time is out of range).
    return NOT_FOUND.test(error.message)
      ? meaning(404, notFoundCode(error.message), error, error.name)
      : meaning(400, 'validation_error', error, error.name)
  }
  // world-local's steps.get and events.get throw a plain Error("… not found").
  if (NOT_FOUND.test(error.message)) return meaning(404, notFoundCode(error.message), error, 'WorkflowWorldError')
  return undefined
}

/** The `retry-after` header (whole seconds) a World error's `retryAfter` asks for. */
export function retryAfterHeaders (fields: WorldErrorFields): Record<string, string> | undefined {
  return fields.retryAfter === undefined ? undefined : { 'retry-after': String(Math.max(0, Math.ceil(fields.retryAfter))) }
}
