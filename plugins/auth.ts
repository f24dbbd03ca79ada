import fp from 'fastify-plugin'
import { API_KEY_PREFIX, hasValidChecksum } from '../lib/api-key-format.js'
import { DelegationTickets } from '../lib/delegation-tickets.js'
import { DomainError } from '../lib/errors.js'
import type { Scope } from '../lib/scopes.js'
import type { ApiKeyIdentity } from '../lib/store/api-keys.js'
import { bearerToken } from '../lib/wire/credentials.js'
import { wasInjected } from '../http/requests.js'

/** Carries a ticket of `fastify.actAs()` on a request this process injects. */
export const ACTING_AS_HEADER = 'x-compute-worker-acting-as'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Headers that make one request this process injects (`fastify.inject`) authenticate as
     * `key` without its secret: how the dashboard calls the public routes for a signed-in
     * session, through the same scopes, validation and audit as any client.
     */
    actAs (key: ApiKeyIdentity): Record<string, string>
  }
  interface FastifyRequest {
    /** The API key that authenticated the request; null when none did. */
    callerKey: ApiKeyIdentity | null
    /** True when `callerKey` came from `actAs()`: a call made on behalf of a request already counted. */
    delegated: boolean
  }
  interface FastifyContextConfig {
    /** The scope a key needs for this route. */
    scope?: Scope
    /** `false` makes a route public (no key at all). */
    auth?: boolean
  }
}

export default fp(async function authPlugin (fastify) {
  const tickets = new DelegationTickets<ApiKeyIdentity>()
  fastify.decorate('actAs', (key: ApiKeyIdentity) => ({ [ACTING_AS_HEADER]: tickets.issue(key) }))
  fastify.decorateRequest('callerKey', null)
  fastify.decorateRequest('delegated', false)

  // Identify first (onRequest), so the rate limiter can key by the caller's API key ... Both hooks
  // take callbacks: a cached key is found without a promise, and they run on every request.
  fastify.addHook('onRequest', function identify (request, _reply, done) {
    const ticket = request.headers[ACTING_AS_HEADER]
    if (ticket !== undefined) {
      delete request.headers[ACTING_AS_HEADER]
      // Only this process injects requests; from the network the header means nothing.
      if (typeof ticket === 'string' && wasInjected(request)) {
        request.callerKey = tickets.redeem(ticket) ?? null
        request.delegated = request.callerKey !== null
      }
      return done()
    }
    const token = bearerToken(request.headers.authorization)
    // A `cw_` key with a wrong checksum is a typo or a forgery: refused without a database lookup.
    if (token === undefined || (token.startsWith(API_KEY_PREFIX) && !hasValidChecksum(token))) return done()
    const found = fastify.apiKeys.authenticate(token)
    if (!(found instanceof Promise)) {
      request.callerKey = found ?? null
      return done()
    }
    found.then((identity) => {
      request.callerKey = identity ?? null
      done()
    }, done)
  })

  // ... and refuse after it (preParsing, before any body is read), so refusals are rate limited too.
  fastify.addHook('preParsing', function enforceScope (request, _reply, payload, done) {
    const config = request.routeOptions.config
    if (request.is404 || config?.auth === false) return done(null, payload)
    if (request.callerKey === null) {
      return done(new DomainError('unauthorized', request.headers.authorization === undefined
        ? 'An API key is required: Authorization: Bearer <key>'
        : 'The API key is not valid'))
    }
    const scope = config?.scope
    if (scope !== undefined && !request.callerKey.scopes.includes(scope)) {
      return done(new DomainError('forbidden', `This API key lacks the scope ${scope}`, { details: { requiredScope: scope } }))
    }
    done(null, payload)
  })
}, { name: 'compute-worker-auth', fastify: '5.x', dependencies: ['compute-worker-storage'] })
