export interface ComputeClientErrorOptions {
  status: number
  code: string
  correlationId?: string
  retryAfter?: number
  details?: Record<string, unknown>
  cause?: unknown
}

/** What every `ComputeClient` call throws: the worker's status, error code and correlation id. */
export class ComputeClientError extends Error {
  /** The HTTP status; 0 when no answer came (network failure, timeout). */
  readonly status: number
  /** The worker's snake_case error code (`validation_error`, `run_not_found`, …; `network_error` without an answer). */
  readonly code: string
  /** The request's x-workflow-correlation-id: quote it when asking the worker's operator. */
  readonly correlationId: string | undefined
  /** The rest of the error body (validation paths, required scope, …). */
  readonly details: Record<string, unknown>

  constructor (message: string, options: ComputeClientErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.status = options.status
    this.code = options.code
    this.correlationId = options.correlationId
    this.details = options.details ?? {}
  }
}

/** 400 (and 413, 415, 422): the request itself is wrong. */
export class ValidationComputeClientError extends ComputeClientError {}
/** 401 or 403: no key, an unknown key, a missing scope, or plain HTTP where HTTPS is required. */
export class AuthComputeClientError extends ComputeClientError {}
/** 404: no such run, hook, deployment, workflow or route. */
export class NotFoundComputeClientError extends ComputeClientError {}
/** 409 `idempotency_conflict` (same key, other payload) or `idempotency_in_progress`. */
export class IdempotencyComputeClientError extends ComputeClientError {}
/** `no_active_deployment`: no deployment was named and none is active. */
export class NoActiveDeploymentComputeClientError extends ComputeClientError {}
/** Any other 409, e.g. `run_already_finished` when cancelling. */
export class ConflictComputeClientError extends ComputeClientError {}
/** 429, after the client's own retries. */
export class RateLimitComputeClientError extends ComputeClientError {
  /** Seconds the worker asked to wait. */
  readonly retryAfter: number | undefined

  constructor (message: string, options: ComputeClientErrorOptions) {
    super(message, options)
    this.retryAfter = options.retryAfter
  }
}
/** 5xx or no answer at all, after the client's own retries. */
export class ServerComputeClientError extends ComputeClientError {}

/** The error class for a worker answer, by status and code. */
export function computeClientErrorFor (message: string, options: ComputeClientErrorOptions): ComputeClientError {
  const { status, code } = options
  if (code === 'no_active_deployment') return new NoActiveDeploymentComputeClientError(message, options)
  if (code === 'idempotency_conflict' || code === 'idempotency_in_progress') return new IdempotencyComputeClientError(message, options)
  if (status === 401 || status === 403) return new AuthComputeClientError(message, options)
  if (status === 404) return new NotFoundComputeClientError(message, options)
  if (status === 409) return new ConflictComputeClientError(message, options)
  if (status === 429) return new RateLimitComputeClientError(message, options)
  if (status === 0 || status >= 500) return new ServerComputeClientError(message, options)
  if (status === 400 || status === 413 || status === 415 || status === 422) return new ValidationComputeClientError(message, options)
  return new ComputeClientError(message, options)
}
