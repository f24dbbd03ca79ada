import type { FastifyRequest } from 'fastify'

/**
 * Whether a request was made with `inject` (the fetch front) rather than over a socket. Fastify
 * has no public flag for it; light-my-request marks its requests with `_lightMyRequest`, and its
 * fake socket reports 127.0.0.1, so an injected request must never pass for a local one.
 */
export function wasInjected (request: FastifyRequest): boolean {
  return (request.raw as { _lightMyRequest?: unknown })._lightMyRequest !== undefined
}
