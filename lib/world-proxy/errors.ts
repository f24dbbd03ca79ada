import { WorkflowWorldError } from '@workflow/errors'
import { parseRetryAfter } from '../client/retry.js'
import { ApiError } from '../errors.js'
import { classifyWorldError, retryAfterHeaders, reviveWorldError, type WorldErrorFields } from '../world/errors.js'

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

/**
 * A World error as the internal lane answers it: the World's message, its class name and fields
 * in the body, so that the client can rebuild it (`errorFromWire`). Undefined for an unexpected error.
 */
export function worldErrorToApiError (error: unknown): ApiError | undefined {
  const meaning = classifyWorldError(error)
  if (meaning === undefined) return undefined
  return new ApiError(meaning.status, meaning.code, meaning.message, {
    details: { name: meaning.name, ...meaning.fields },
    headers: retryAfterHeaders(meaning.fields),
    cause: error
  })
}

function retryAfterOf (body: WorldErrorBody, header: string | null): number | undefined {
  return typeof body.retryAfter === 'number' ? body.retryAfter : parseRetryAfter(header)
}

/**
 * Rebuilds, on the client, the `@workflow/errors` class the World threw on the server; anything
 * else becomes a `WorkflowWorldError` carrying the status (the runtime retries >= 500).
 */
export function errorFromWire (status: number, body: WorldErrorBody, retryAfterHeader: string | null, url?: string): Error {
  const message = typeof body.message === 'string' && body.message !== '' ? body.message : `HTTP ${status}`
  // A plain Error of the World (world-local's "Step … not found") stays one.
  if (body.name === 'Error') return new Error(message)
  const retryAfter = retryAfterOf(body, retryAfterHeader)
  return reviveWorldError(status, { ...body, message, retryAfter }) ??
    new WorkflowWorldError(message, { status, code: body.code, retryAfter, url })
}

/** A request that got no HTTP answer (refused, reset, DNS): retryable by the runtime. */
export function transportError (cause: unknown, url: string): WorkflowWorldError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new WorkflowWorldError(`Request to ${url} failed: ${reason}`, { code: 'TRANSPORT', url, cause })
}

export function timeoutError (url: string, timeoutMs: number, cause?: unknown): WorkflowWorldError {
  return new WorkflowWorldError(`Request to ${url} timed out after ${timeoutMs} ms`, { code: 'TIMEOUT', url, cause })
}
