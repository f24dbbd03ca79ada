import { randomBytes } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { API_KEY_PREFIX, hasValidChecksum } from '../../lib/api-key-format.js'
import { DomainError } from '../../lib/errors.js'
import { navItems } from '../../lib/ui/views/layout.js'
import { loginPage } from '../../lib/ui/views/login.js'

/** The sign-in form's own CSRF token (there is no session yet): a cookie the form must echo. */
const LOGIN_COOKIE = 'cw_ui_login'
const LOGIN_COOKIE_SECONDS = 3_600

const LoginBody = Type.Object({
  key: Type.String({ maxLength: 512 }),
  _csrf: Type.String({ maxLength: 128 }),
  next: Type.Optional(Type.String({ maxLength: 2048 }))
}, { additionalProperties: false })

const LoginQuery = Type.Object({
  next: Type.Optional(Type.String({ maxLength: 2048 })),
  done: Type.Optional(Type.String({ maxLength: 32 }))
})

const dashboard: FastifyPluginAsyncTypebox = async (fastify) => {
  const base = fastify.uiSite.base

  /** Only a path of this dashboard: never another site, never another part of the worker. */
  const safeNext = (next: string | undefined): string | undefined =>
    next !== undefined && next.startsWith(`${base}/`) && !next.startsWith(`${base}/login`) && !/[\\]|\/\/|[\r\n]/.test(next) ? next : undefined

  fastify.get('/', async (request, reply) => {
    const ctx = request.uiContext()
    const first = navItems(base).find((item) => ctx.allows('GET', item.reads))
    return await reply.redirect(first?.href ?? `${base}/worker`, 303)
  })

  fastify.get('/login', {
    config: { uiPublic: true },
    schema: { querystring: LoginQuery }
  }, async (request, reply) => {
    if (request.uiSession !== null) return await reply.redirect(safeNext(request.query.next) ?? `${base}/`, 303)
    const loginToken = randomBytes(24).toString('base64url')
    reply.setUiCookie(LOGIN_COOKIE, loginToken, LOGIN_COOKIE_SECONDS, `${base}/login`)
    return reply.sendHtml(loginPage(request.uiContext(), { loginToken, next: safeNext(request.query.next) }))
  })

  fastify.post('/login', {
    config: { uiPublic: true, audit: 'ui.sign_in' },
    schema: { body: LoginBody }
  }, async (request, reply) => {
    const expected = request.readUiCookie(LOGIN_COOKIE)
    if (expected === undefined || expected !== request.body._csrf) {
      throw new DomainError('forbidden', 'The sign-in form expired: reload the page and try again')
    }
    const secret = request.body.key.trim()
    // A mistyped cw_ key is refused without a lookup, as the API refuses it.
    const key = secret === '' || (secret.startsWith(API_KEY_PREFIX) && !hasValidChecksum(secret)) ? undefined : await fastify.apiKeys.authenticate(secret)
    if (key === undefined) {
      reply.code(401)
      return reply.sendHtml(loginPage(request.uiContext(), { loginToken: expected, next: safeNext(request.body.next), error: 'The API key is not valid.' }))
    }
    request.auditFacts = { actorKeyId: key.id }
    await reply.signIn(key)
    reply.setUiCookie(LOGIN_COOKIE, '', 0, `${base}/login`)
    return await reply.redirect(safeNext(request.body.next) ?? `${base}/`, 303)
  })

  fastify.post('/logout', {
    config: { audit: 'ui.sign_out' }
  }, async (_request, reply) => {
    await reply.signOut()
    return await reply.redirect(`${base}/login?done=signed_out`, 303)
  })

  fastify.get('/*', async (request) => {
    throw new DomainError('not_found', `There is no page at ${request.url.split('?')[0]}`)
  })
}

export default dashboard
