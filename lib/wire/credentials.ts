import { createHash, timingSafeEqual } from 'node:crypto'

/** Credentials on the wire: bearer tokens (API keys, the delivery secret) and the secret of queue deliveries. */

/**
 * The secret of queue deliveries, read by both sides from this variable: the worker's World
 * sends it on every delivery, a runtime's delivery handler (`@workflow-studio/compute-worker/client`)
 * and the worker's own delivery routes check it.
 */
export const DELIVERY_SECRET_ENV = 'COMPUTE_WORKER_DELIVERY_SECRET'
/** The older form the worker's own delivery routes also accept, besides `Authorization: Bearer`. */
export const DELIVERY_SECRET_HEADER = 'x-workflow-delivery-secret'

// Visible ASCII (RFC 6750's token68 is a subset of it): anything else is refused, not guessed at.
const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i

/** The token of an `Authorization: Bearer <token>` header: API keys and the delivery secret alike. */
export function bearerToken (header: string | null | undefined): string | undefined {
  if (header === null || header === undefined) return undefined
  return BEARER.exec(header)?.[1]
}

/** The `Authorization` value a delivery carries. */
export function deliveryAuthorization (secret: string): string {
  return `Bearer ${secret}`
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function sameSecret (given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(given), digest(expected))
}

/** Whether an `Authorization` header holds the delivery secret. */
export function authorizesDelivery (authorization: string | null | undefined, secret: string): boolean {
  const given = bearerToken(authorization)
  return given !== undefined && sameSecret(given, secret)
}
