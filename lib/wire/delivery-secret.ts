import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * The secret of queue deliveries (world-proxy-protocol.md §4.3), read by both sides from this
 * variable: the worker's World sends it on every delivery, a runtime's delivery handler
 * (`@workflow-studio/compute-worker/client`) and the worker's own delivery routes check it.
 */
export const DELIVERY_SECRET_ENV = 'COMPUTE_WORKER_DELIVERY_SECRET'
/** The older form the worker's own delivery routes also accept, besides `Authorization: Bearer`. */
export const DELIVERY_SECRET_HEADER = 'x-workflow-delivery-secret'

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/** The `Authorization` value a delivery carries. */
export function deliveryAuthorization (secret: string): string {
  return `Bearer ${secret}`
}

export function bearerToken (header: string | null | undefined): string | undefined {
  if (header === null || header === undefined) return undefined
  return BEARER.exec(header)?.[1]
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
