import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { mock, test } from 'node:test'
import { loggerOptions } from '../../../lib/logging.js'
import { KEYS, build } from '../../helper.js'
import { cookieValue, csrfOf, getPage, postForm, setCookie, signIn } from './helper.js'

test('signing in exchanges the key for an HttpOnly, SameSite=Strict session cookie; the key is in no page, log or URL', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, callback) { lines.push(String(chunk)); callback() } })
  const { app } = await build(t, { logger: { ...loggerOptions('trace'), stream } })

  const away = await getPage(app, '/ui/runs?status=failed')
  assert.equal(away.statusCode, 303, 'a page without a session sends the reader to the sign-in form')
  assert.equal(away.headers.location, '/ui/login?next=%2Fui%2Fruns%3Fstatus%3Dfailed')

  const form = await getPage(app, '/ui/login?next=%2Fui%2Fruns%3Fstatus%3Dfailed')
  assert.equal(form.statusCode, 200)
  assert.match(String(form.headers['content-type']), /^text\/html/)
  assert.match(String(form.headers['content-security-policy']), /script-src 'self'/)
  assert.equal(form.headers['x-frame-options'], 'DENY')
  assert.match(form.body, /type="password"/)
  const loginCookie = setCookie(form, 'cw_ui_login')!
  assert.match(loginCookie, /HttpOnly/)
  assert.match(loginCookie, /SameSite=Strict/)
  assert.doesNotMatch(loginCookie, /Secure/)
  const login = `cw_ui_login=${cookieValue(loginCookie)}`

  const refused = await postForm(app, '/ui/login', { key: KEYS.runsRead, _csrf: csrfOf(form.body) })
  assert.equal(refused.statusCode, 403, 'the sign-in form is checked against its own cookie')

  const bad = await postForm(app, '/ui/login', { key: 'test-key-unknown-000000000000000001', _csrf: csrfOf(form.body) }, login)
  assert.equal(bad.statusCode, 401)
  assert.match(bad.body, /The API key is not valid/)
  assert.equal(setCookie(bad, 'cw_ui_session'), undefined)
  assert.equal(bad.body.includes('test-key-unknown'), false, 'a refused key is not written back into the form')

  const res = await postForm(app, '/ui/login', { key: KEYS.runsRead, _csrf: csrfOf(form.body), next: '/ui/runs?status=failed' }, login)
  assert.equal(res.statusCode, 303)
  assert.equal(res.headers.location, '/ui/runs?status=failed', 'back where the reader was going')
  const session = setCookie(res, 'cw_ui_session')!
  assert.match(session, /^cw_ui_session=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/ui; HttpOnly; SameSite=Strict$/)
  assert.equal(session.includes(KEYS.runsRead), false, 'the cookie is a session id, not the key')

  const page = await getPage(app, '/ui/runs', `cw_ui_session=${cookieValue(session)}`)
  assert.equal(page.statusCode, 200, page.body)
  assert.match(page.body, /runs-read/, 'the page names the key that signed in')
  for (const body of [form.body, bad.body, page.body]) assert.equal(body.includes(KEYS.runsRead), false)
  assert.equal(String(res.headers.location).includes(KEYS.runsRead), false)

  const text = lines.join('')
  assert.ok(text.length > 0)
  for (const secret of [KEYS.runsRead, 'test-key-unknown-000000000000000001', cookieValue(session)]) {
    assert.equal(text.includes(secret), false, 'secrets in the logs')
  }
  const audit = (await app.auditLog.recent(10)).filter((row) => row.action === 'ui.sign_in').map((row) => [row.outcome, row.actorKeyId !== null])
  assert.deepEqual(audit, [['success', true], ['denied', false], ['denied', false]])
})

test('an open redirect through ?next= is refused: only the dashboard\'s own pages', async (t) => {
  const { app } = await build(t)
  for (const next of ['https://evil.example/', '//evil.example/ui/', '/v1/runs', '/ui//evil.example', '/ui/\\evil']) {
    const form = await getPage(app, `/ui/login?next=${encodeURIComponent(next)}`)
    assert.equal(form.body.includes('name="next"'), false, next)
    const login = `cw_ui_login=${cookieValue(setCookie(form, 'cw_ui_login')!)}`
    const res = await postForm(app, '/ui/login', { key: KEYS.runsRead, _csrf: csrfOf(form.body), next }, login)
    assert.equal(res.headers.location, '/ui/', next)
  }
})

test('sign-out ends the session at once; it needs the CSRF token; a revoked key ends its sessions', async (t) => {
  const { app } = await build(t)
  const { cookie, csrf } = await signIn(app, KEYS.admin)
  assert.equal((await postForm(app, '/ui/logout', { _csrf: 'wrong' }, cookie)).statusCode, 403)
  assert.equal((await getPage(app, '/ui/runs', cookie)).statusCode, 200)
  const out = await postForm(app, '/ui/logout', { _csrf: csrf }, cookie)
  assert.equal(out.statusCode, 303)
  assert.equal(out.headers.location, '/ui/login?done=signed_out')
  assert.match(setCookie(out, 'cw_ui_session')!, /^cw_ui_session=; Max-Age=0; Path=\/ui/)
  const after = await getPage(app, '/ui/runs', cookie)
  assert.equal(after.statusCode, 303)
  assert.equal(after.headers.location, '/ui/login?next=%2Fui%2Fruns&done=expired')
  assert.match((await getPage(app, String(after.headers.location))).body, /Your session is over/)

  const other = await signIn(app, KEYS.runsRead)
  const id = (await app.apiKeys.list()).find((key) => key.name === 'runs-read')!.id
  await app.apiKeys.revoke(id)
  assert.equal((await getPage(app, '/ui/runs', other.cookie)).statusCode, 303, 'revoked with the key')
  assert.equal((await postForm(app, '/ui/logout', { _csrf: other.csrf }, other.cookie)).statusCode, 401)

  const live = await app.inject({ url: '/ui/runs', headers: { cookie: other.cookie, 'hx-request': 'true' } })
  assert.equal(live.statusCode, 401, 'a live region of a page whose session ended asks htmx to go to the sign-in form')
  assert.equal(live.headers['hx-redirect'], '/ui/login?done=expired')
})

test('a session unused for ui.sessionIdleMinutes is over; one older than ui.sessionMaxHours too', async (t) => {
  mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-15T09:00:00Z') })
  t.after(() => mock.timers.reset())
  const { app } = await build(t, { ui: { sessionIdleMinutes: 5, sessionMaxHours: 1 } })
  const { cookie } = await signIn(app, KEYS.runsRead)
  for (let i = 0; i < 14; i++) {
    mock.timers.tick(4 * 60_000)
    assert.equal((await getPage(app, '/ui/runs', cookie)).statusCode, 200, `used after ${(i + 1) * 4} minutes`)
  }
  mock.timers.tick(4 * 60_000)
  assert.equal((await getPage(app, '/ui/runs', cookie)).statusCode, 303, 'over after an hour, however busy')
  const idle = await signIn(app, KEYS.runsRead)
  mock.timers.tick(5 * 60_000)
  assert.equal((await getPage(app, '/ui/runs', idle.cookie)).statusCode, 303, 'over after 5 idle minutes')
})

test('under requireHttps the cookies are Secure', async (t) => {
  const { app } = await build(t, { requireHttps: true, trustProxy: true })
  const https = { 'x-forwarded-proto': 'https' }
  const form = await app.inject({ url: '/ui/login', headers: { accept: 'text/html', ...https } })
  assert.equal(form.statusCode, 200)
  assert.match(setCookie(form, 'cw_ui_login')!, /; Secure/)
  const login = `cw_ui_login=${cookieValue(setCookie(form, 'cw_ui_login')!)}`
  const res = await postForm(app, '/ui/login', { key: KEYS.admin, _csrf: csrfOf(form.body) }, login, https)
  assert.equal(res.statusCode, 303)
  const cookie = `cw_ui_session=${cookieValue(setCookie(res, 'cw_ui_session')!)}`
  assert.match(setCookie(res, 'cw_ui_session')!, /; Secure/)
  const page = await app.inject({ url: '/ui/runs', headers: { accept: 'text/html', cookie, ...https } })
  assert.equal(page.statusCode, 200, 'the page\'s own calls pass the HTTPS requirement')
  const plain = await app.inject({ url: '/ui/login', headers: { accept: 'application/json' } })
  assert.equal(plain.statusCode, 403)
  assert.equal(plain.json().code, 'https_required')
})
