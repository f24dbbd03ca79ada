import type { FastifyReply, FastifyRequest, HTTPMethods, InjectOptions } from 'fastify'
import fp from 'fastify-plugin'
import { parseCookie, stringifySetCookie } from 'cookie'
import { RouteAnswerError } from '../http/errors.js'
import { DomainError } from '../lib/errors.js'
import { CORRELATION_HEADER } from '../lib/headers.js'
import type { Scope } from '../lib/scopes.js'
import type { ApiKeyIdentity } from '../lib/store/api-keys.js'
import type { Html } from '../lib/ui/html.js'
import { UiSessionStore, type UiSession, type UiSessionLimits } from '../lib/ui/sessions.js'
import type { PageContext } from '../lib/ui/views/layout.js'
import { FETCH_PROTOCOL_HEADER } from './https.js'

export const SESSION_COOKIE = 'cw_ui_session'

export interface UiSite {
  /** Where the dashboard is served: `<prefix>/ui`. */
  base: string
  /**
   * Whether a worker route (`'POST', '/v1/runs/:id/cancel'`) would let this key in, by the scope
   * the route itself declares: the pages offer exactly what the key may do.
   */
  allows (key: ApiKeyIdentity | null, method: string, path: string): boolean
}

export type ApiAnswer<T = any> = { status: number, body: T }

declare module 'fastify' {
  interface FastifyInstance {
    uiSessions: UiSessionStore
    uiSite: UiSite
  }
  interface FastifyRequest {
    /** The dashboard session of the request's cookie, when it has a live one. */
    uiSession: (UiSession & { token: string }) | null
    /** Calls a worker route as the session's API key (inject, `actAs`): the same scopes, validation and audit as any client. */
    callApi<T = any> (method: HTTPMethods, path: string, body?: unknown): Promise<ApiAnswer<T>>
    /** `callApi` for reads: the body of a 2xx, else the route's error thrown as it answered. */
    readApi<T = any> (path: string): Promise<T>
    /** The route's answer as a stream (`GET /v1/runs/:id/stream`), ended when `signal` aborts. */
    streamApi (path: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ status: number, stream: NodeJS.ReadableStream }>
    readUiCookie (name: string): string | undefined
    /** What a page needs to know of this request (base, key, CSRF token, what the key may call). */
    uiContext (): PageContext
  }
  interface FastifyReply {
    /** Starts a session for the key and sets its cookie. */
    signIn (key: ApiKeyIdentity): Promise<void>
    /** Ends the request's session, if any, and clears its cookie. */
    signOut (): Promise<void>
    /** Sets a dashboard cookie: HttpOnly, SameSite=Strict, under the dashboard's path, Secure under requireHttps. */
    setUiCookie (name: string, value: string, maxAgeSeconds: number, path?: string): FastifyReply
    sendHtml (page: Html): FastifyReply
  }
  interface FastifyContextConfig {
    /** A dashboard route: the session cookie identifies the caller (before the rate limit keys by it). */
    uiSession?: boolean
  }
}

export interface UiPluginOptions {
  sessionLimits: UiSessionLimits
}

const PURGE_INTERVAL_MS = 60 * 60_000

/** What `?done=` may say after an action: fixed sentences, so a link cannot make the page say anything else. */
const NOTICES: Record<string, string> = {
  cancelled: 'Run cancelled.',
  resumed: 'Payload delivered: the run goes on.',
  activated: 'Deployment activated: new runs start on it.',
  signed_out: 'Signed out.',
  expired: 'Your session is over: sign in again.'
}

/** An error answer of a worker route, thrown again so the page shows what the API said. */
export function apiAnswerError (answer: ApiAnswer): RouteAnswerError {
  const { code, message, correlationId: _ignored, ...details } = (answer.body ?? {}) as Record<string, unknown>
  return new RouteAnswerError({
    statusCode: answer.status,
    code: typeof code === 'string' ? code : 'internal_error',
    message: typeof message === 'string' ? message : 'The request failed',
    details
  })
}

/**
 * The operator's dashboard: its sessions (made from an API key, stored server-side) and its one
 * way to data, the worker's own routes called as the session's key. Register after auth and
 * before the rate limit, so that a page is counted against its session's key.
 */
export default fp<UiPluginOptions>(async function uiPlugin (fastify, opts) {
  const sessions = new UiSessionStore(fastify.controlPlane.uiSessions, opts.sessionLimits)
  const { requireHttps } = fastify.workerConfig
  const base = `${fastify.prefix}/ui`
  const routes = new Map<string, { public: boolean, scope?: Scope }>()
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.set(`${method} ${route.url}`, { public: route.config?.auth === false, scope: route.config?.scope })
  })
  fastify.decorate('uiSessions', sessions)
  const site: UiSite = {
    base,
    allows: (key: ApiKeyIdentity | null, method: string, path: string) => {
      const route = routes.get(`${method.toUpperCase()} ${fastify.prefix}${path}`)
      if (route === undefined) return false
      if (route.public) return true
      return key !== null && (route.scope === undefined || key.scopes.includes(route.scope))
    }
  }
  fastify.decorate('uiSite', site)

  fastify.decorateRequest('uiSession', null)
  fastify.decorateRequest('readUiCookie', function readUiCookie (this: FastifyRequest, name: string) {
    const header = this.headers.cookie
    return header === undefined ? undefined : parseCookie(header)[name]
  })

  fastify.decorateRequest('uiContext', function uiContext (this: FastifyRequest): PageContext {
    const key = this.uiSession !== null ? this.callerKey : null
    const done = (this.query as { done?: unknown } | undefined)?.done
    return {
      base,
      key,
      csrfToken: this.uiSession?.csrfToken,
      allows: (method, path) => site.allows(key, method, path),
      ...(typeof done === 'string' && Object.hasOwn(NOTICES, done) ? { notice: NOTICES[done] } : {})
    }
  })
  fastify.decorateReply('sendHtml', function sendHtml (this: FastifyReply, page: Html) {
    return this.type('text/html; charset=utf-8').send(page.text)
  })

  async function resumeSession (request: FastifyRequest): Promise<void> {
    const token = request.readUiCookie(SESSION_COOKIE)
    if (token === undefined || token === '') return
    const session = await sessions.resolve(token)
    const key = session === undefined ? undefined : await fastify.apiKeys.getLive(session.keyId)
    if (session === undefined || key === undefined) return
    request.callerKey = key
    request.uiSession = { ...session, token }
  }
  // A callback hook: requests outside the dashboard (most) pay no promise for it.
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config?.uiSession !== true) return done()
    resumeSession(request).then(() => done(), done)
  })

  function injectOptions (request: FastifyRequest, method: HTTPMethods, path: string, body: unknown): InjectOptions {
    if (request.callerKey === null) throw new DomainError('unauthorized', 'Sign in first')
    return {
      method,
      url: `${fastify.prefix}${path}`,
      headers: {
        ...fastify.actAs(request.callerKey),
        [CORRELATION_HEADER]: request.correlationId,
        accept: 'application/json',
        // The page itself passed the HTTPS requirement.
        ...(requireHttps ? { [FETCH_PROTOCOL_HEADER]: 'https' } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {})
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {})
    }
  }

  fastify.decorateRequest('callApi', async function callApi (this: FastifyRequest, method: HTTPMethods, path: string, body?: unknown): Promise<ApiAnswer> {
    const res = await fastify.inject(injectOptions(this, method, path, body))
    let parsed: unknown
    try {
      parsed = res.body === '' ? undefined : JSON.parse(res.body)
    } catch {
      parsed = { code: 'internal_error', message: 'The worker answered something other than JSON' }
    }
    return { status: res.statusCode, body: parsed }
  })

  fastify.decorateRequest('readApi', async function readApi (this: FastifyRequest, path: string) {
    const answer = await this.callApi('GET', path)
    if (answer.status >= 300) throw apiAnswerError(answer)
    return answer.body
  })

  fastify.decorateRequest('streamApi', async function streamApi (this: FastifyRequest, path: string, headers: Record<string, string>, signal: AbortSignal) {
    const options = injectOptions(this, 'GET', path, undefined)
    const res = await fastify.inject({ ...options, headers: { ...options.headers, ...headers }, payloadAsStream: true, signal })
    return { status: res.statusCode, stream: res.stream() }
  })

  fastify.decorateReply('setUiCookie', function setUiCookie (this: FastifyReply, name: string, value: string, maxAgeSeconds: number, path = base) {
    const cookie = stringifySetCookie({
      name,
      value,
      path,
      httpOnly: true,
      sameSite: 'strict',
      secure: requireHttps,
      maxAge: maxAgeSeconds
    })
    const previous = this.getHeader('set-cookie')
    const list = previous === undefined ? [] : [previous].flat().map(String)
    return this.header('set-cookie', [...list, cookie])
  })

  fastify.decorateReply('signIn', async function signIn (this: FastifyReply, key: ApiKeyIdentity) {
    // Signing in again replaces the session: the old cookie stops working.
    const previous = this.request.uiSession?.token
    if (previous !== undefined) await sessions.end(previous)
    const { token } = await sessions.create(key.id)
    this.setUiCookie(SESSION_COOKIE, token, Math.floor(sessions.limits.absoluteMs / 1_000))
  })

  fastify.decorateReply('signOut', async function signOut (this: FastifyReply) {
    const token = this.request.uiSession?.token ?? this.request.readUiCookie(SESSION_COOKIE)
    if (token !== undefined && token !== '') await sessions.end(token)
    this.request.uiSession = null
    this.setUiCookie(SESSION_COOKIE, '', 0)
  })

  const purge = (): void => {
    sessions.purgeExpired().catch((error) => fastify.log.warn({ err: error }, 'ui: purging expired sessions failed'))
  }
  fastify.addHook('onReady', async () => { purge() })
  const timer = setInterval(purge, PURGE_INTERVAL_MS).unref()
  fastify.addHook('onClose', async () => { clearInterval(timer) })
}, { name: 'compute-worker-ui', fastify: '5.x', dependencies: ['compute-worker-storage', 'compute-worker-auth', 'compute-worker-config'] })
