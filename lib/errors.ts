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
  409: 'conflict',
  410: 'gone',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  425: 'too_early',
  429: 'rate_limited',
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
