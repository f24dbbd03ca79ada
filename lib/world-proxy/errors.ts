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

/**
 * The error body of the internal lane: the contract's `{ code, message, correlationId }` plus the
 * World error's `name` and the fields its class carries. The SDK runtime branches on error
 * *names* (`EntityConflictError.is(err)` compares `err.name`), so the client rebuilds the same
 * class from `name`, not from the status alone.
 */
export interface WorldErrorBody extends WorldErrorFields {
  code?: string
  message?: string
  correlationId?: string
  name?: string
}

/** What the World error classes carry besides their message. */
interface WorldErrorFields {
  retryAfter?: number
  runId?: string
  token?: string
  conflictingRunId?: string
  runSpecVersion?: number
  worldSpecVersion?: number
}

interface NamedError extends Error, WorldErrorFields {
  status?: number
  code?: string
}

function isNamedError (value: unknown): value is NamedError {
  return typeof value === 'object' && value !== null &&
    typeof (value as Error).name === 'string' && typeof (value as Error).message === 'string'
}

const NOT_FOUND = /not found/i

function apiError (status: number, code: string, error: NamedError, name: string, extra: WorldErrorBody = {}): ApiError {
  const retryAfter = extra.retryAfter ?? error.retryAfter
  const details: Record<string, unknown> = { name, ...extra }
  if (retryAfter !== undefined) details.retryAfter = retryAfter
  return new ApiError(status, code, error.message, {
    details,
    headers: retryAfter !== undefined ? { 'retry-after': String(Math.max(0, Math.ceil(retryAfter))) } : undefined,
    cause: error
  })
}

/**
 * Maps what a World throws to the lane's status, code and name (world-proxy.md, "Errors").
 * 4xx stay below 500: the runtime redelivers on >= 500, so a 4xx sent as 500 would loop forever.
 * Returns undefined for an unexpected error, which the error handler turns into a logged 500.
 */
interface NamedMapping {
  is: (value: unknown) => boolean
  status: number
  code: string
  fields?: (error: NamedError) => WorldErrorBody
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

function notFoundCode (message: string): string {
  return /^step\b/i.test(message) ? 'step_not_found' : 'not_found'
}

/**
 * Maps what a World throws to the lane's status, code and name (world-proxy.md, "Errors").
 * 4xx stay below 500: the runtime redelivers on >= 500, so a 4xx sent as 500 would loop forever.
 * Returns undefined for an unexpected error, which the error handler turns into a logged 500.
 */
export function worldErrorToApiError (error: unknown): ApiError | undefined {
  if (error instanceof ApiError || !isNamedError(error)) return undefined
  const named = NAMED_ERRORS.find((mapping) => mapping.is(error))
  if (named !== undefined) return apiError(named.status, named.code, error, error.name, named.fields?.(error))
  // Request-shape failures: zod's own, world-local's unsafe ids (a WorkflowWorldError subclass).
  if (error.name === 'ZodError' || error.name === 'UnsafeEntityIdError') {
    return apiError(400, 'validation_error', error, 'WorkflowWorldError')
  }
  if (WorkflowWorldError.is(error as unknown)) {
    if (typeof error.status === 'number' && error.status >= 400 && error.status < 600) {
      return apiError(error.status, error.code ?? (error.status >= 500 ? 'internal_error' : 'world_error'), error, error.name)
    }
    // Without a status, world-local and world-postgres use it for "Step/Wait … not found" and
    // for rejected input (a client run id whose ULID time is out of range).
    return NOT_FOUND.test(error.message)
      ? apiError(404, notFoundCode(error.message), error, error.name)
      : apiError(400, 'validation_error', error, error.name)
  }
  // world-local's steps.get and events.get throw a plain Error("… not found").
  if (NOT_FOUND.test(error.message)) return apiError(404, notFoundCode(error.message), error, 'WorkflowWorldError')
  return undefined
}

function retryAfterOf (body: WorldErrorBody, header: string | null): number | undefined {
  if (typeof body.retryAfter === 'number') return body.retryAfter
  if (header === null) return undefined
  const seconds = Number.parseInt(header, 10)
  return Number.isNaN(seconds) ? undefined : seconds
}

/**
 * Rebuilds, on the client, the `@workflow/errors` class the World threw on the server; anything
 * else becomes a `WorkflowWorldError` carrying the status (the runtime retries >= 500).
 */
export function errorFromWire (status: number, body: WorldErrorBody, retryAfterHeader: string | null, url?: string): Error {
  const message = typeof body.message === 'string' && body.message !== '' ? body.message : `HTTP ${status}`
  const retryAfter = retryAfterOf(body, retryAfterHeader)
  switch (body.name) {
    case 'WorkflowRunNotFoundError': return new WorkflowRunNotFoundError(body.runId ?? '')
    case 'HookNotFoundError': return new HookNotFoundError(body.token ?? '')
    case 'HookConflictError': return new HookConflictError(body.token ?? '', body.conflictingRunId)
    case 'RunNotSupportedError': return new RunNotSupportedError(body.runSpecVersion ?? 0, body.worldSpecVersion ?? 0)
  }
  if (status === 404 && body.code === 'run_not_found') return new WorkflowRunNotFoundError(body.runId ?? '')
  if (status === 404 && body.code === 'hook_not_found') return new HookNotFoundError(body.token ?? '')
  if (status === 409) return new EntityConflictError(message)
  if (status === 410) return new RunExpiredError(message)
  if (status === 412) return new PreconditionFailedError(message, { retryAfter })
  if (status === 425) return new TooEarlyError(message, { retryAfter })
  if (status === 429) return new ThrottleError(message, { retryAfter })
  return new WorkflowWorldError(message, { status, code: body.code, retryAfter, url })
}

/** A request that got no HTTP answer (refused, reset, DNS): retryable by the runtime. */
export function transportError (cause: unknown, url: string): WorkflowWorldError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new WorkflowWorldError(`Request to ${url} failed: ${reason}`, { code: 'TRANSPORT', url, cause })
}

export function timeoutError (url: string, timeoutMs: number, cause?: unknown): WorkflowWorldError {
  return new WorkflowWorldError(`Request to ${url} timed out after ${timeoutMs} ms`, { code: 'TIMEOUT', url, cause })
}
