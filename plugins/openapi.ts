import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { BODY_METHODS, baseDocument, documentedSchema, finishDocument, type RouteFacts } from '../http/openapi/document.js'
import { VERSION } from '../lib/version.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route parses a body of any Content-Type itself: documented without 415. */
    anyMediaType?: boolean
  }
}

const OPENAPI_PATH = '/v1/openapi.json'
const DOCS_PREFIX = '/docs'

// The UI's own bundle, styles and images only; inline styles are Swagger UI's.
const DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"

/**
 * A prefixed `/` route is registered twice (`/v1/runs` and `/v1/runs/`) and Fastify rewrites the
 * url of the options @fastify/swagger kept to the second form: document the first.
 */
function canonicalUrl (url: string): string {
  return url.length > 1 ? url.replace(/\/$/, '') : url
}

function factsOf (route: RouteOptions): RouteFacts {
  const config = route.config ?? {}
  const methods = [route.method].flat().map((method) => String(method).toUpperCase())
  return {
    method: methods[0],
    takesBody: methods.some((method) => BODY_METHODS.has(method)),
    url: canonicalUrl(route.url),
    authenticated: config.auth !== false,
    scope: config.scope,
    rateLimited: config.rateLimit !== false,
    httpsRequired: config.httpsRequired !== false,
    idempotent: config.idempotency !== undefined,
    anyMediaType: config.anyMediaType === true
  }
}

/** The docs UI, its static assets included (no CDN): public, in a context of its own. */
async function docsUi (fastify: FastifyInstance, opts: { indexPrefix: string }): Promise<void> {
  fastify.addHook('onRoute', (route) => {
    route.config = { ...route.config, auth: false }
  })
  await fastify.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    // The page's asset URLs are absolute without a trailing slash: they need the mount prefix.
    indexPrefix: opts.indexPrefix,
    staticCSP: DOCS_CSP,
    theme: { title: 'compute-worker API' },
    uiConfig: { deepLinking: true, displayOperationId: false, defaultModelsExpandDepth: 0, tryItOutEnabled: false }
  })
}

/**
 * Collects every route registered after it into an OpenAPI 3.1 document, served at
 * `GET /v1/openapi.json` (public, outside the rate limit and the HTTPS requirement, like health),
 * and the Swagger UI at `/docs`. Register before the routes.
 */
export default fp(async function openapiPlugin (fastify) {
  await fastify.register(swagger, {
    openapi: baseDocument() as FastifyDynamicSwaggerOptions['openapi'],
    transform: ({ schema, url, route }) => ({ schema: documentedSchema(factsOf(route), schema as Record<string, unknown>), url: canonicalUrl(url) }),
    transformObject: (document) => finishDocument((document as { openapiObject: Record<string, unknown> }).openapiObject)
  })

  let serialized: string | undefined
  fastify.get(OPENAPI_PATH, {
    config: { auth: false, rateLimit: false, httpsRequired: false },
    schema: {
      summary: 'This OpenAPI 3.1 document; no authentication',
      tags: ['meta'],
      response: {
        200: Type.Object({ openapi: Type.String() }, {
          additionalProperties: true,
          description: 'OpenAPI 3.1 document',
          examples: [{
            openapi: '3.1.0',
            info: { title: '@workflow-studio/compute-worker', version: VERSION },
            paths: { '/v1/health/live': { get: { operationId: 'getV1HealthLive', summary: 'Liveness for orchestrators', tags: ['health'] } } }
          }]
        })
      }
    }
  }, async (_request, reply) => {
    serialized ??= JSON.stringify(fastify.swagger())
    return reply.type('application/json; charset=utf-8').send(serialized)
  })

  const docsUrl = `${fastify.prefix}${DOCS_PREFIX}`
  if (fastify.hasRoute({ method: 'GET', url: docsUrl })) {
    fastify.log.warn({ url: docsUrl }, 'openapi: the host app already serves this path; the worker\'s docs UI is not registered')
    return
  }
  await fastify.register(docsUi, { indexPrefix: fastify.prefix })
}, { name: 'compute-worker-openapi', fastify: '5.x', dependencies: ['compute-worker-auth'] })
