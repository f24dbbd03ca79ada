import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import { DomainError } from '../errors.js'

export { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from '../headers.js'

const KEY = /^[\x20-\x7e]{1,255}$/

/** `Idempotency-Key`: required, 1 to 255 printable ASCII characters, not only spaces. */
export function readIdempotencyKey (header: string | string[] | undefined): string {
  if (header === undefined || (Array.isArray(header) && header.length === 0)) {
    throw new DomainError('idempotency_key_required', 'This request needs an Idempotency-Key header (1 to 255 printable characters)')
  }
  const key = Array.isArray(header) ? header[0] : header
  if (Array.isArray(header) && header.length > 1) throw invalidKey('must be sent once')
  if (!KEY.test(key) || key.trim() === '') throw invalidKey('must have 1 to 255 printable ASCII characters')
  return key
}

function invalidKey (message: string): DomainError {
  return new DomainError('validation_error', `Idempotency-Key ${message}`, {
    details: { validation: [{ in: 'headers', path: '/idempotency-key', message }] }
  })
}

/**
 * The request's identity for idempotency: sha256 of its RFC 8785 canonical JSON, so the same
 * payload with its keys in another order (or other whitespace) is the same request.
 */
export function fingerprintOf (payload: unknown): string {
  let canonical: string | undefined
  try {
    canonical = canonicalize(payload ?? null)
  } catch (error) {
    throw new DomainError('validation_error', `The body cannot be canonicalized: ${(error as Error).message}`)
  }
  return createHash('sha256').update(canonical ?? 'null').digest('hex')
}
