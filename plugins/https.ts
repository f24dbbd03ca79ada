import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../lib/errors.js'

/**
 * Set by the fetch front (`createComputeWorker`) from the URL it was given; trusted only on
 * requests made with `inject`, which never come from the network.
 */
export const FETCH_PROTOCOL_HEADER = 'x-compute-worker-fetch-protocol'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false` exempts a route from `requireHttps` (health). */
    httpsRequired?: boolean
  }
}

/** A request made with `inject` (the fetch front, the dashboard's calls): it never came from a socket. */
export function wasInjected (request: FastifyRequest): boolean {
  return (request.raw as { _lightMyRequest?: unknown })._lightMyRequest !== undefined
}

function arrivedOverHttps (request: FastifyRequest): boolean {
  if (request.protocol === 'https') return true
  return wasInjected(request) && request.headers[FETCH_PROTOCOL_HEADER] === 'https'
}

export default fp<{ requireHttps: boolean }>(async function httpsPlugin (fastify, opts) {
  if (!opts.requireHttps) return
  fastify.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.httpsRequired === false || arrivedOverHttps(request)) return
    throw new ApiError(403, 'https_required', 'This worker accepts requests over HTTPS only')
  })
}, { name: 'compute-worker-https', fastify: '5.x', dependencies: ['compute-worker-correlation'] })
