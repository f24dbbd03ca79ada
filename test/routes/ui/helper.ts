import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

export interface Signed {
  /** The Cookie header that carries the session. */
  cookie: string
  /** The session's CSRF token, as its pages carry it. */
  csrf: string
}

/** The `Set-Cookie` value for `name`, raw (`name=value; Path=…; HttpOnly; …`). */
export function setCookie (res: LightMyRequestResponse, name: string): string | undefined {
  const header = res.headers['set-cookie']
  return [header ?? []].flat().map(String).find((cookie) => cookie.startsWith(`${name}=`))
}

export function cookieValue (setCookieHeader: string): string {
  return setCookieHeader.slice(setCookieHeader.indexOf('=') + 1, setCookieHeader.indexOf(';'))
}

export function csrfOf (html: string): string {
  const match = /name="_csrf" value="([^"]*)"/.exec(html)
  assert.ok(match, 'the page has a form with a CSRF token')
  return match[1]
}

/** A page as a browser asks for it. */
export async function getPage (app: FastifyInstance, url: string, cookie?: string): Promise<LightMyRequestResponse> {
  return await app.inject({ url, headers: { accept: 'text/html', ...(cookie !== undefined ? { cookie } : {}) } })
}

/** A form post as a browser sends it (same origin). */
export async function postForm (app: FastifyInstance, url: string, form: Record<string, string>, cookie?: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'POST',
    url,
    headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...(cookie !== undefined ? { cookie } : {}), ...headers },
    payload: new URLSearchParams(form).toString()
  })
}

/** Signs in through the form (the sign-in page's own token and cookie) and returns the session. */
export async function signIn (app: FastifyInstance, key: string, base = '/ui'): Promise<Signed> {
  const form = await getPage(app, `${base}/login`)
  assert.equal(form.statusCode, 200, form.body)
  const loginCookie = setCookie(form, 'cw_ui_login')
  assert.ok(loginCookie, 'the sign-in page sets its token cookie')
  const res = await postForm(app, `${base}/login`, { key, _csrf: csrfOf(form.body) }, `cw_ui_login=${cookieValue(loginCookie)}`)
  assert.equal(res.statusCode, 303, res.body)
  const session = setCookie(res, 'cw_ui_session')
  assert.ok(session, 'signing in sets the session cookie')
  const cookie = `cw_ui_session=${cookieValue(session)}`
  const page = await getPage(app, `${base}/worker`, cookie)
  assert.equal(page.statusCode, 200, page.body)
  return { cookie, csrf: csrfOf(page.body) }
}
