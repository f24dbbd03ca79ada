/**
 * The error every route throws for an expected failure. The error handler turns it into the
 * contract's `{ code, message, correlationId, ...details }` body with `statusCode`.
 */
export class ApiError extends Error {
  readonly statusCode: number
  readonly code: string
  readonly details: Record<string, unknown> | undefined
  readonly headers: Record<string, string> | undefined

  constructor (
    statusCode: number,
    code: string,
    message: string,
    options: { details?: Record<string, unknown>, headers?: Record<string, string>, cause?: unknown } = {}
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ApiError'
    this.statusCode = statusCode
    this.code = code
    this.details = options.details
    this.headers = options.headers
  }
}

export function isApiError (error: unknown): error is ApiError {
  return error instanceof ApiError
}

/** The code a bare HTTP status gets when nothing more specific was said. */
export const DEFAULT_CODE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'validation_error',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  410: 'gone',
  412: 'precondition_failed',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  425: 'too_early',
  429: 'rate_limited',
  431: 'headers_too_large',
  500: 'internal_error',
  501: 'not_implemented',
  503: 'not_ready'
}

export function defaultCodeForStatus (status: number): string {
  return DEFAULT_CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'bad_request')
}

/** A bad option of the worker, named, caught at start-up. */
export class OptionsError extends Error {
  constructor (option: string, problem: string) {
    super(`compute-worker option "${option}" ${problem}`)
    this.name = 'OptionsError'
  }
}

// Node's network failures, SQLite's "cannot serve now", PostgreSQL's shutdown / too many connections.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_PROTOCOL',
  '57P01', '57P02', '57P03', '53300'
])
const UNAVAILABLE_MESSAGES = /^(The database connection is not open|Connection terminated)/

function unavailableCode (code: unknown): boolean {
  if (typeof code !== 'string') return false
  // SQLITE_IOERR_* and SQLITE_BUSY_* are extended codes; SQLSTATE class 08 is "connection exception".
  return UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_BUSY') || /^08[0-9A-Z]{3}$/.test(code)
}

/**
 * Whether an error says a service the worker stands on (the World, its database, SQLite) cannot
 * answer right now, rather than that the request is wrong: 503 `not_ready`, worth a retry.
 * Follows `cause` and an AggregateError's first error (Node's connect to several addresses).
 */
export function isUnavailableError (error: unknown): boolean {
  let current = error as { code?: unknown, message?: unknown, cause?: unknown, errors?: unknown[] } | undefined
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (unavailableCode(current.code)) return true
    if (typeof current.message === 'string' && UNAVAILABLE_MESSAGES.test(current.message)) return true
    current = (current.cause ?? current.errors?.[0]) as typeof current
  }
  return false
}
