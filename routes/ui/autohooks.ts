import formbody from '@fastify/formbody'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { timingSafeEqual } from 'node:crypto'
import { ApiError } from '../../lib/errors.js'
import { errorPage } from '../../lib/ui/views/error.js'
import { describeError } from '../../plugins/errors.js'
import { SESSION_COOKIE } from '../../plugins/ui.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A dashboard route that answers without a session (sign-in, assets). */
    uiPublic?: boolean
  }
}

const FORM_TYPE = 'application/x-www-form-urlencoded'

// Pages load only the dashboard's own scripts and styles; no inline script or style, no framing.
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

function sameToken (sent: unknown, expected: string | undefined): boolean {
  if (typeof sent !== 'string' || expected === undefined) return false
  const a = Buffer.from(sent)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Browsers say where a request comes from; a form posted from another site is refused whatever it carries. */
function crossSite (request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site']
  return site === 'cross-site' || site === 'same-site'
}

export function wantsHtml (request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? ''
  return accept.includes('text/html') || request.headers['hx-request'] === 'true'
}

/** Where a signed-out reader goes, coming back to `url` after signing in. */
export function loginUrl (base: string, url: string | undefined, done?: string): string {
  const params = new URLSearchParams()
  if (url !== undefined && url !== `${base}/` && url !== base) params.set('next', url)
  if (done !== undefined) params.set('done', done)
  const query = params.toString()
  return `${base}/login${query === '' ? '' : `?${query}`}`
}

/**
 * Every dashboard route (`/ui/**`): identified by its session cookie (not a bearer key), hidden
 * from the OpenAPI document, forms parsed, every POST checked against the session's CSRF token,
 * pages sent with a strict CSP and never cached, and errors shown as a page to a browser.
 */
export default async function dashboard (fastify: FastifyInstance): Promise<void> {
  const base = fastify.uiSite.base

  fastify.addHook('onRoute', (route) => {
    route.config = { auth: false, uiSession: true, ...route.config }
    route.schema = { ...route.schema, hide: true }
  })

  if (!fastify.hasContentTypeParser(FORM_TYPE)) await fastify.register(formbody, { bodyLimit: 1024 * 1024 })

  fastify.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config
    if (request.method === 'POST' && crossSite(request)) {
      throw new ApiError(403, 'forbidden', 'A form from another site was refused')
    }
    if (config?.uiPublic === true) return
    if (request.uiSession === null) {
      const expired = request.readUiCookie(SESSION_COOKIE) !== undefined ? 'expired' : undefined
      if (request.method === 'GET' && request.headers['hx-request'] === 'true') {
        // A live region asking again: htmx sends the whole page to the sign-in form.
        return await reply.header('hx-redirect', loginUrl(base, undefined, expired)).code(401).send()
      }
      if (request.method === 'GET') return await reply.redirect(loginUrl(base, request.url, expired), 303)
      throw new ApiError(401, 'unauthorized', 'Sign in first: the session is missing or over')
    }
    if (request.method === 'POST' && !sameToken((request.body as { _csrf?: unknown } | undefined)?._csrf, request.uiSession.csrfToken)) {
      throw new ApiError(403, 'forbidden', "The form's CSRF token is missing or wrong: reload the page and try again")
    }
  })

  fastify.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header('x-frame-options', 'DENY')
    reply.header('referrer-policy', 'same-origin')
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('content-security-policy', PAGE_CSP)
    return payload
  })

  // A browser gets a page with the same status, code and correlation id; anyone else the worker's JSON.
  fastify.setErrorHandler(async function renderError (error, request, reply) {
    if (!wantsHtml(request)) throw error
    const described = describeError(error)
    if (described.statusCode >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: described.code, statusCode: described.statusCode }, described.message)
    if (described.headers !== undefined) reply.headers(described.headers)
    return reply.code(described.statusCode).sendHtml(errorPage(request.uiContext(), { ...described, correlationId: request.correlationId }))
  })
}
