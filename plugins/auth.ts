import fp from 'fastify-plugin'
import { API_KEY_PREFIX, hasValidChecksum } from '../lib/api-key-format.js'
import { DomainError } from '../lib/errors.js'
import type { Scope } from '../lib/scopes.js'
import type { ApiKeyIdentity } from '../lib/store/api-keys.js'
import { bearerToken } from '../lib/wire/credentials.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key that authenticated the request; null when none did. */
    callerKey: ApiKeyIdentity | null
  }
  interface FastifyContextConfig {
    /** The scope a key needs for this route. */
    scope?: Scope
    /** `false` makes a route public (no key at all). */
    auth?: boolean
  }
}

export default fp(async function authPlugin (fastify) {
  fastify.decorateRequest('callerKey', null)

  // Identify first (onRequest), so the rate limiter can key by the caller's API key ...
  fastify.addHook('onRequest', async (request) => {
    const token = bearerToken(request.headers.authorization)
    if (token === undefined) return
    // A `cw_` key with a wrong checksum is a typo or a forgery: refused without a database lookup.
    if (token.startsWith(API_KEY_PREFIX) && !hasValidChecksum(token)) return
    request.callerKey = fastify.apiKeys.authenticate(token) ?? null
  })

  // ... and refuse after it (preParsing, before any body is read), so refusals are rate limited too.
  fastify.addHook('preParsing', async (request) => {
    const config = request.routeOptions.config
    if (request.is404 || config?.auth === false) return
    if (request.callerKey === null) {
      throw new DomainError('unauthorized', request.headers.authorization === undefined
        ? 'An API key is required: Authorization: Bearer <key>'
        : 'The API key is not valid')
    }
    const scope = config?.scope
    if (scope !== undefined && !request.callerKey.scopes.includes(scope)) {
      throw new DomainError('forbidden', `This API key lacks the scope ${scope}`, { details: { requiredScope: scope } })
    }
  })
}, { name: 'compute-worker-auth', fastify: '5.x', dependencies: ['compute-worker-storage'] })
