import type { FastifyError } from 'fastify'
import { DomainError, isUnavailableError, type ErrorCode, type WorkerErrorCode } from '../lib/errors.js'
import { retryAfterHeader } from '../lib/wire/retry-after.js'
import { classifyWorldError, WORLD_ERROR_CODES, worldErrorNameFor } from '../lib/wire/world-errors.js'

/**
 * Codes only a bare status gets (an error of Fastify or of a plugin that carries nothing but a
 * `statusCode`); nothing of the worker throws them.
 */
type BareStatusCode =
  | 'method_not_allowed' | 'not_acceptable' | 'request_timeout' | 'conflict' | 'gone' | 'uri_too_long'
  | 'unprocessable_entity' | 'headers_too_large'

export type AnswerCode = ErrorCode | BareStatusCode

export interface ErrorCodeEntry {
  status: number
  /** When the worker answers it, for the OpenAPI responses; codes without one are not listed there. */
  when?: string
}

const WORKER_CODES: Record<WorkerErrorCode | BareStatusCode, ErrorCodeEntry> = {
  validation_error: {
    status: 400,
    when: 'body, query, params or headers fail the schema, or malformed JSON (`validation` lists the paths)'
  },
  idempotency_key_required: { status: 400, when: 'POST /v1/runs without Idempotency-Key' },
  unauthorized: { status: 401, when: 'no API key, or an unknown or revoked one' },
  invalid_signature: { status: 401, when: 'a provider webhook whose signature does not verify (`reason` says why)' },
  forbidden: { status: 403, when: 'the key lacks the route\'s scope (`requiredScope` names it)' },
  https_required: { status: 403, when: 'plain HTTP while the worker requires HTTPS' },
  not_found: { status: 404, when: 'no such route, webhook provider or World entity' },
  deployment_not_found: { status: 404, when: 'no deployment has this id' },
  workflow_not_found: { status: 404, when: 'the deployment has no such workflow (`candidates` when an export name is ambiguous)' },
  step_not_found: { status: 404, when: 'no such step' },
  stream_not_found: { status: 404, when: 'no such stream' },
  idempotency_conflict: { status: 409, when: 'the Idempotency-Key was used with another payload' },
  idempotency_in_progress: { status: 409, when: 'the first request with this Idempotency-Key is still being processed (with Retry-After)' },
  // GET /v1/deployments/active answers it with 404 (`config.errorStatus`): there the pointer is the resource.
  no_active_deployment: { status: 409, when: 'no deploymentId was given and no deployment is active (404 from GET /v1/deployments/active)' },
  run_already_finished: { status: 409, when: 'cancel or resume of a run that has ended' },
  stream_closed: { status: 409, when: 'internal lane: a write to a closed stream' },
  payload_too_large: { status: 413, when: 'the body is over the route\'s limit' },
  unsupported_media_type: { status: 415, when: 'a Content-Type the route does not take' },
  internal_error: { status: 500, when: 'anything unexpected; logged with the correlation id' },
  not_implemented: { status: 501, when: 'internal lane: the World does not offer this operation' },
  not_ready: { status: 503, when: 'the World or the database is unavailable, or the worker is shutting down' },
  method_not_allowed: { status: 405 },
  not_acceptable: { status: 406 },
  request_timeout: { status: 408 },
  conflict: { status: 409 },
  gone: { status: 410 },
  uri_too_long: { status: 414 },
  unprocessable_entity: { status: 422 },
  headers_too_large: { status: 431 }
}

/** Said of a World code beyond "the World's <class>". */
const WORLD_CODE_NOTES: Partial<Record<string, string>> = {
  run_not_found: 'no run has this id',
  hook_not_found: 'no hook is waiting on this token',
  rate_limited: 'over the key\'s requests per minute (per client IP without a key)'
}

/**
 * Every code the worker answers with and its HTTP status: the worker's own codes, and the World
 * error table's (whose statuses the client also revives classes from). The error handler and
 * the OpenAPI responses both read it.
 */
export const ERROR_CODES: Readonly<Record<AnswerCode, ErrorCodeEntry>> = {
  ...WORKER_CODES,
  ...Object.fromEntries(WORLD_ERROR_CODES.map(({ code, status, className }) => {
    const note = WORLD_CODE_NOTES[code]
    return [code, { status, when: note === undefined ? `internal lane: the World's ${className}` : `${note} (the World's ${className})` }]
  })) as Record<(typeof WORLD_ERROR_CODES)[number]['code'], ErrorCodeEntry>
}

/** The code an error carrying only a status gets, per status. */
const BARE_STATUS_CODES: AnswerCode[] = [
  'validation_error', 'unauthorized', 'forbidden', 'not_found', 'method_not_allowed', 'not_acceptable', 'request_timeout',
  'conflict', 'gone', 'precondition_failed', 'payload_too_large', 'uri_too_long', 'unsupported_media_type',
  'unprocessable_entity', 'too_early', 'rate_limited', 'headers_too_large', 'internal_error', 'not_implemented', 'not_ready'
]
const CODE_OF_BARE_STATUS = new Map(BARE_STATUS_CODES.map((code) => [ERROR_CODES[code].status, code]))

/** The code of an error that carries nothing but its status (Fastify's own, a plugin's, the HTTP server's). */
export function codeOfBareStatus (status: number): string {
  return CODE_OF_BARE_STATUS.get(status) ?? (status >= 500 ? 'internal_error' : 'bad_request')
}

/** The codes answered with `status`, each with when, for a description. */
export function codesOfStatus (status: number): Array<{ code: AnswerCode, when: string }> {
  return (Object.entries(ERROR_CODES) as Array<[AnswerCode, ErrorCodeEntry]>)
    .filter(([, entry]) => entry.status === status && entry.when !== undefined)
    .map(([code, entry]) => ({ code, when: entry.when as string }))
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * An internal-lane route: every error body also carries `name`, the World error class the
     * client rebuilds from it, auth and validation refusals included.
     */
    worldLane?: boolean
    /** Statuses this route answers some codes with instead of the table's. */
    errorStatus?: Partial<Record<AnswerCode, number>>
  }
}

export interface ErrorDescription {
  statusCode: number
  code: string
  message: string
  details?: Record<string, unknown>
  headers?: Record<string, string>
}

export interface DescribeOptions {
  /** The internal lane: World errors keep their message, class name and fields. */
  worldLane?: boolean
  errorStatus?: Partial<Record<AnswerCode, number>>
}

/** The public lane's sentences for the World errors its callers meet (a hook's token is a secret). */
const PUBLIC_MESSAGES: Partial<Record<string, (runId?: string) => string>> = {
  run_not_found: (runId) => `Run ${runId ?? ''} does not exist`,
  hook_not_found: () => 'No hook is waiting on this token'
}

/**
 * An error answer of one of the worker's own routes, passed on as it was given (the dashboard
 * calls the routes in-process and shows their refusals): status, code and details unchanged.
 */
export class RouteAnswerError extends Error {
  readonly description: ErrorDescription

  constructor (description: ErrorDescription) {
    super(description.message)
    this.name = 'RouteAnswerError'
    this.description = description
  }
}

type MaybeFastifyError = Partial<FastifyError> & { status?: number }

function retryAfterHeaders (seconds: number | undefined): Record<string, string> | undefined {
  return seconds === undefined ? undefined : { 'retry-after': retryAfterHeader(seconds) }
}

function describeAny (error: unknown, options: DescribeOptions): ErrorDescription {
  if (error instanceof RouteAnswerError) return error.description
  if (error instanceof DomainError) {
    return {
      statusCode: options.errorStatus?.[error.code] ?? ERROR_CODES[error.code].status,
      code: error.code,
      message: error.message,
      details: error.details,
      headers: retryAfterHeaders(error.retryAfter)
    }
  }
  const world = classifyWorldError(error)
  if (world !== undefined) {
    const headers = retryAfterHeaders(world.fields.retryAfter)
    if (options.worldLane === true) {
      return { statusCode: world.status, code: world.code, message: world.message, details: { name: world.name, ...world.fields }, headers }
    }
    return { statusCode: world.status, code: world.code, message: PUBLIC_MESSAGES[world.code]?.(world.fields.runId) ?? world.message, headers }
  }
  const err = (error ?? {}) as MaybeFastifyError
  if (Array.isArray(err.validation)) {
    const where = err.validationContext ?? 'body'
    return {
      statusCode: 400,
      code: 'validation_error',
      message: err.message ?? 'Invalid request',
      details: {
        validation: err.validation.map((issue) => ({
          in: where,
          path: issue.instancePath === '' ? '/' : issue.instancePath,
          message: issue.message ?? 'is invalid'
        }))
      }
    }
  }
  const status = err.statusCode ?? err.status
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own 4xx (bad JSON, body too large, media type) and any plugin's status-only errors.
    return { statusCode: status, code: codeOfBareStatus(status), message: err.message || 'Bad request' }
  }
  if (status === 503) {
    return { statusCode: 503, code: 'not_ready', message: err.message || 'Service unavailable' }
  }
  if (isUnavailableError(error)) {
    return { statusCode: 503, code: 'not_ready', message: 'A service the worker depends on is unavailable; retry later' }
  }
  return { statusCode: 500, code: 'internal_error', message: 'Internal server error' }
}

/**
 * Maps anything thrown in a request to the worker's error (status, code, message, details,
 * headers): a DomainError by the table, a World error by the World error table, Fastify's own
 * by their status; anything else is a 500 that says nothing.
 */
export function describeError (error: unknown, options: DescribeOptions = {}): ErrorDescription {
  const described = describeAny(error, options)
  if (options.worldLane !== true || described.details?.name !== undefined) return described
  return { ...described, details: { ...described.details, name: worldErrorNameFor(described.statusCode, described.code) } }
}
