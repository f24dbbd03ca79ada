import type { WorldErrorCode } from './wire/world-errors.js'

/**
 * The worker's own error codes (the World's come from its error table, lib/wire/world-errors.ts).
 * The HTTP edge gives each its status (http/errors.ts); nothing in lib/ knows statuses.
 */
export type WorkerErrorCode =
  | 'validation_error'
  | 'idempotency_key_required'
  | 'unauthorized'
  | 'invalid_signature'
  | 'forbidden'
  | 'https_required'
  | 'not_found'
  | 'deployment_not_found'
  | 'workflow_not_found'
  | 'step_not_found'
  | 'stream_not_found'
  | 'idempotency_conflict'
  | 'idempotency_in_progress'
  | 'no_active_deployment'
  | 'run_already_finished'
  | 'stream_closed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'internal_error'
  | 'not_implemented'
  | 'not_ready'

export type ErrorCode = WorkerErrorCode | WorldErrorCode

export interface DomainErrorOptions {
  /** Facts for the caller, sent beside code and message (validation paths, the run id, …). */
  details?: Record<string, unknown>
  /** Seconds after which the same request may succeed (a lease running out, a busy delivery). */
  retryAfter?: number
  cause?: unknown
}

/**
 * An expected failure, as lib/ reports it: what went wrong (`code`), a sentence for a human, and
 * the facts a caller can act on. The HTTP edge turns it into the worker's error body.
 */
export class DomainError extends Error {
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined
  readonly retryAfter: number | undefined

  constructor (code: ErrorCode, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DomainError'
    this.code = code
    this.details = options.details
    this.retryAfter = options.retryAfter
  }
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
// pg's pool gives up waiting for a connection with the last one (no code).
const UNAVAILABLE_MESSAGES = /^(The database connection is not open|Connection terminated|timeout exceeded when trying to connect)/

function unavailableCode (code: unknown): boolean {
  if (typeof code !== 'string') return false
  // SQLITE_IOERR_* and SQLITE_BUSY_* are extended codes; SQLSTATE class 08 is "connection exception".
  return UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_BUSY') || /^08[0-9A-Z]{3}$/.test(code)
}

/**
 * Whether an error says a service the worker stands on (the World, its database, SQLite) cannot
 * answer right now, rather than that the request is wrong: `not_ready`, worth a retry.
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
