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

/**
 * A World error class the SDK runtime branches on (`EntityConflictError.is(err)` compares
 * `err.name`): its status and code on the wire, the fields it carries, and how the client
 * rebuilds it. One row per class serves both lanes and both directions.
 */
interface WorldErrorKind {
  is: (value: unknown) => boolean
  status: number
  code: string
  fields?: (error: NamedError) => WorldErrorFields
  revive: (message: string, fields: WorldErrorFields) => Error
  /** The class a bare answer with this status stands for, whatever its code. */
  ownsStatus?: true
}

const KINDS: WorldErrorKind[] = [
  {
    is: WorkflowRunNotFoundError.is,
    status: 404,
    code: 'run_not_found',
    fields: (error) => ({ runId: error.runId }),
    revive: (_message, fields) => new WorkflowRunNotFoundError(fields.runId ?? '')
  },
  {
    is: HookNotFoundError.is,
    status: 404,
    code: 'hook_not_found',
    fields: (error) => ({ token: error.token }),
    revive: (_message, fields) => new HookNotFoundError(fields.token ?? '')
  },
  {
    is: HookConflictError.is,
    status: 409,
    code: 'hook_conflict',
    fields: (error) => ({ token: error.token, conflictingRunId: error.conflictingRunId }),
    revive: (_message, fields) => new HookConflictError(fields.token ?? '', fields.conflictingRunId)
  },
  { is: EntityConflictError.is, status: 409, code: 'entity_conflict', ownsStatus: true, revive: (message) => new EntityConflictError(message) },
  { is: RunExpiredError.is, status: 410, code: 'run_expired', ownsStatus: true, revive: (message) => new RunExpiredError(message) },
  {
    is: PreconditionFailedError.is,
    status: 412,
    code: 'precondition_failed',
    ownsStatus: true,
    revive: (message, { retryAfter }) => new PreconditionFailedError(message, { retryAfter })
  },
  { is: TooEarlyError.is, status: 425, code: 'too_early', ownsStatus: true, revive: (message, { retryAfter }) => new TooEarlyError(message, { retryAfter }) },
  { is: ThrottleError.is, status: 429, code: 'rate_limited', ownsStatus: true, revive: (message, { retryAfter }) => new ThrottleError(message, { retryAfter }) },
  // No package gives this one a status; 422 keeps it a non-retryable 4xx.
  {
    is: RunNotSupportedError.is,
    status: 422,
    code: 'run_not_supported',
    fields: (error) => ({ runSpecVersion: error.runSpecVersion, worldSpecVersion: error.worldSpecVersion }),
    revive: (_message, fields) => new RunNotSupportedError(fields.runSpecVersion ?? 0, fields.worldSpecVersion ?? 0)
  }
]

const NOT_FOUND = /not found/i

function defaultWorldCode (status: number): string {
  if (status === 503) return 'not_ready'
  return status >= 500 ? 'internal_error' : 'world_error'
}

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
  const kind = KINDS.find((candidate) => candidate.is(error))
  if (kind !== undefined) return meaning(kind.status, kind.code, error, error.name, kind.fields?.(error))
  // Request-shape failures: zod's own, world-local's unsafe ids (a WorkflowWorldError subclass).
  if (error.name === 'ZodError' || error.name === 'UnsafeEntityIdError') {
    return meaning(400, 'validation_error', error, 'WorkflowWorldError')
  }
  if (WorkflowWorldError.is(error as unknown)) {
    if (typeof error.status === 'number' && error.status >= 400 && error.status < 600) {
      return meaning(error.status, error.code ?? defaultWorldCode(error.status), error, error.name)
    }
    // Without a status, world-local and world-postgres use it for "Step/Wait … not found" and
    // for rejected input (a client run id whose ULID time is out of range).
    return NOT_FOUND.test(error.message)
      ? meaning(404, notFoundCode(error.message), error, error.name)
      : meaning(400, 'validation_error', error, error.name)
  }
  // world-local's steps.get and events.get throw a plain Error("… not found"); named `Error` on
  // the wire so that the client throws the same (the SDK's CLI prints the two differently).
  if (NOT_FOUND.test(error.message)) return meaning(404, notFoundCode(error.message), error, 'Error')
  return undefined
}

/** The `retry-after` header (whole seconds) a World error's `retryAfter` asks for. */
export function retryAfterHeaders (fields: WorldErrorFields): Record<string, string> | undefined {
  return fields.retryAfter === undefined ? undefined : { 'retry-after': String(Math.max(0, Math.ceil(fields.retryAfter))) }
}

/**
 * The `@workflow/errors` class an HTTP answer stands for (by the class name the lane sends, else
 * by status and code); undefined when it stands for none, i.e. a plain WorkflowWorldError.
 */
export function reviveWorldError (status: number, answer: { name?: string, code?: string, message: string } & WorldErrorFields): Error | undefined {
  const byName = answer.name === undefined ? undefined : KINDS.find((candidate) => candidate.is({ name: answer.name, message: '' }))
  const kind = byName ??
    KINDS.find((candidate) => candidate.status === status && candidate.code === answer.code) ??
    KINDS.find((candidate) => candidate.status === status && candidate.ownsStatus === true)
  return kind?.revive(answer.message, answer)
}

/**
 * The class name an internal-lane answer the World did not produce (auth, validation, rate
 * limit, body size) carries: the one the client would rebuild from its status and code.
 */
export function worldErrorNameFor (status: number, code: string): string {
  return reviveWorldError(status, { code, message: '' })?.name ?? 'WorkflowWorldError'
}
