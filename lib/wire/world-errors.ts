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
import { parseRetryAfter } from './retry-after.js'

/** What the World error classes carry besides their message. */
export interface WorldErrorFields {
  retryAfter?: number
  runId?: string
  token?: string
  conflictingRunId?: string
  runSpecVersion?: number
  worldSpecVersion?: number
}

/** A World error read for the wire: its status and code, the class name the SDK runtime branches on, its fields. */
export interface WorldErrorMeaning {
  status: number
  code: string
  name: string
  fields: WorldErrorFields
  message: string
}

/**
 * The error body of the internal lane: the worker's `{ code, message, correlationId }` plus the
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

interface NamedError extends Error, WorldErrorFields {
  status?: number
  code?: string
}

function isNamedError (value: unknown): value is NamedError {
  return typeof value === 'object' && value !== null &&
    typeof (value as Error).name === 'string' && typeof (value as Error).message === 'string'
}

/**
 * A World error class the SDK runtime branches on (`EntityConflictError.is(err)` compares
 * `err.name`): its status and code on the wire, the fields it carries, and how the client
 * rebuilds it. One row per class serves both lanes and both directions.
 */
interface WorldErrorKind {
  errorClass: { name: string, is: (value: unknown) => boolean }
  status: number
  code: string
  fields?: (error: NamedError) => WorldErrorFields
  revive: (message: string, fields: WorldErrorFields) => Error
  /** The class a bare answer with this status stands for, whatever its code. */
  ownsStatus?: true
}

const KINDS = [
  {
    errorClass: WorkflowRunNotFoundError,
    status: 404,
    code: 'run_not_found',
    fields: (error) => ({ runId: error.runId }),
    revive: (_message, fields) => new WorkflowRunNotFoundError(fields.runId ?? '')
  },
  {
    errorClass: HookNotFoundError,
    status: 404,
    code: 'hook_not_found',
    fields: (error) => ({ token: error.token }),
    revive: (_message, fields) => new HookNotFoundError(fields.token ?? '')
  },
  {
    errorClass: HookConflictError,
    status: 409,
    code: 'hook_conflict',
    fields: (error) => ({ token: error.token, conflictingRunId: error.conflictingRunId }),
    revive: (_message, fields) => new HookConflictError(fields.token ?? '', fields.conflictingRunId)
  },
  { errorClass: EntityConflictError, status: 409, code: 'entity_conflict', ownsStatus: true, revive: (message) => new EntityConflictError(message) },
  { errorClass: RunExpiredError, status: 410, code: 'run_expired', ownsStatus: true, revive: (message) => new RunExpiredError(message) },
  {
    errorClass: PreconditionFailedError,
    status: 412,
    code: 'precondition_failed',
    ownsStatus: true,
    revive: (message, { retryAfter }) => new PreconditionFailedError(message, { retryAfter })
  },
  { errorClass: TooEarlyError, status: 425, code: 'too_early', ownsStatus: true, revive: (message, { retryAfter }) => new TooEarlyError(message, { retryAfter }) },
  { errorClass: ThrottleError, status: 429, code: 'rate_limited', ownsStatus: true, revive: (message, { retryAfter }) => new ThrottleError(message, { retryAfter }) },
  // No package gives this one a status; 422 keeps it a non-retryable 4xx.
  {
    errorClass: RunNotSupportedError,
    status: 422,
    code: 'run_not_supported',
    fields: (error) => ({ runSpecVersion: error.runSpecVersion, worldSpecVersion: error.worldSpecVersion }),
    revive: (_message, fields) => new RunNotSupportedError(fields.runSpecVersion ?? 0, fields.worldSpecVersion ?? 0)
  }
] as const satisfies readonly WorldErrorKind[]

export type WorldErrorCode = typeof KINDS[number]['code']

/** Each World error class's code and status, and the class the client rebuilds from them. */
export const WORLD_ERROR_CODES: ReadonlyArray<{ code: WorldErrorCode, status: number, className: string }> =
  KINDS.map((kind) => ({ code: kind.code, status: kind.status, className: kind.errorClass.name }))

const NOT_FOUND = /not found/i

/** Whether a World's message says "not found", and so which not-found: `step_not_found` for a step, else `not_found`. */
export function notFoundCodeOf (message: string): 'step_not_found' | 'not_found' | undefined {
  if (!NOT_FOUND.test(message)) return undefined
  return /^step\b/i.test(message) ? 'step_not_found' : 'not_found'
}

function defaultWorldCode (status: number): string {
  if (status === 503) return 'not_ready'
  return status >= 500 ? 'internal_error' : 'world_error'
}

function meaning (status: number, code: string, error: NamedError, name: string, fields: WorldErrorFields = {}): WorldErrorMeaning {
  const retryAfter = fields.retryAfter ?? error.retryAfter
  return { status, code, name, message: error.message, fields: retryAfter === undefined ? fields : { ...fields, retryAfter } }
}

/**
 * What a World error means on the wire; both lanes answer with it. 4xx stay below 500: the
 * runtime redelivers on >= 500, so a 4xx sent as 500 would loop forever. Undefined for anything
 * that is not one of the World's errors. A plain `Error("… not found")` is not recognized here
 * (serialization and other code throw those too): the internal lane reads world-local's own.
 */
export function classifyWorldError (error: unknown): WorldErrorMeaning | undefined {
  if (!isNamedError(error)) return undefined
  const kind = KINDS.find((candidate) => candidate.errorClass.is(error))
  if (kind !== undefined) return meaning(kind.status, kind.code, error, error.name, 'fields' in kind ? kind.fields(error) : undefined)
  // Request-shape failures: zod's own, world-local's unsafe ids (a WorkflowWorldError subclass).
  if (error.name === 'ZodError' || error.name === 'UnsafeEntityIdError') {
    return meaning(400, 'validation_error', error, 'WorkflowWorldError')
  }
  if (!WorkflowWorldError.is(error as unknown)) return undefined
  if (typeof error.status === 'number' && error.status >= 400 && error.status < 600) {
    return meaning(error.status, error.code ?? defaultWorldCode(error.status), error, error.name)
  }
  // Without a status, world-local and world-postgres use it for "Step/Wait … not found" and
  // for rejected input (a client run id whose ULID time is out of range).
  const notFound = notFoundCodeOf(error.message)
  return notFound !== undefined ? meaning(404, notFound, error, error.name) : meaning(400, 'validation_error', error, error.name)
}

/**
 * The `@workflow/errors` class an answer stands for (by the class name the lane sends, else
 * by status and code); undefined when it stands for none, i.e. a plain WorkflowWorldError.
 */
function reviveWorldError (status: number, answer: { name?: string, code?: string, message: string } & WorldErrorFields): Error | undefined {
  const byName = answer.name === undefined ? undefined : KINDS.find((candidate) => candidate.errorClass.is({ name: answer.name, message: '' }))
  const kind: WorldErrorKind | undefined = byName ??
    KINDS.find((candidate) => candidate.status === status && candidate.code === answer.code) ??
    KINDS.find((candidate) => candidate.status === status && 'ownsStatus' in candidate)
  return kind?.revive(answer.message, answer)
}

/**
 * The class name an internal-lane answer the World did not produce (auth, validation, rate
 * limit, body size) carries: the one the client would rebuild from its status and code.
 */
export function worldErrorNameFor (status: number, code: string): string {
  return reviveWorldError(status, { code, message: '' })?.name ?? 'WorkflowWorldError'
}

/**
 * The JSON an ERROR frame of a live read carries: the World error with its status, as an
 * answer would carry it; anything else is a 500 the runtime retries.
 */
export function streamErrorEnvelope (error: unknown): WorldErrorBody & { status: number } {
  const world = classifyWorldError(error)
  if (world === undefined) return { status: 500, code: 'internal_error', message: 'Reading the stream failed', name: 'WorkflowWorldError' }
  return { status: world.status, code: world.code, message: world.message, name: world.name, ...world.fields }
}

/**
 * Rebuilds, on the client, the `@workflow/errors` class the World threw on the server; anything
 * else becomes a `WorkflowWorldError` carrying the status (the runtime retries >= 500).
 */
export function errorFromWire (status: number, body: WorldErrorBody, retryAfterHeader: string | null, url?: string): Error {
  const message = typeof body.message === 'string' && body.message !== '' ? body.message : `HTTP ${status}`
  // A plain Error of the World (world-local's "Step … not found") stays one.
  if (body.name === 'Error') return new Error(message)
  const retryAfter = typeof body.retryAfter === 'number' ? body.retryAfter : parseRetryAfter(retryAfterHeader)
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
