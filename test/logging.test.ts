import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { loggerOptions, redactText, redactUrl } from '../lib/logging.js'
import { KEYS, bearer, build } from './helper.js'

function capture (): { stream: Writable, lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean))
      callback()
    }
  })
  return { stream, lines }
}

test('API keys never reach the logs, not even when a route logs the headers', async (t) => {
  const { stream, lines } = capture()
  const { app } = await build(t, { logger: { ...loggerOptions('trace'), stream } }, (app: FastifyInstance) => {
    app.get('/probe/log-headers', async (request) => {
      request.log.info({ headers: request.headers }, 'headers seen')
      return { ok: true }
    })
  })
  await app.inject({ url: '/probe/log-headers', headers: { ...bearer(KEYS.admin), 'x-workflow-correlation-id': 'log-test-1' } })
  await app.inject({ url: '/probe/log-headers', headers: bearer('test-key-unknown-000000000000000001') })
  await app.inject({ url: '/nope', headers: bearer(KEYS.runsRead) })
  const text = lines.join('\n')
  assert.ok(lines.length > 3, 'something was logged')
  for (const secret of [KEYS.admin, KEYS.runsRead, 'test-key-unknown-000000000000000001']) {
    assert.equal(text.includes(secret), false, `${secret} in logs`)
  }
  assert.ok(lines.some((line) => JSON.parse(line).correlationId === 'log-test-1'), 'the correlation id is the request id label')
})

test('redactUrl removes hook tokens and secrets in query strings', () => {
  assert.equal(redactUrl('/v1/world/hooks/by-token/abc%2Fdef?x=1'), '/v1/world/hooks/by-token/[redacted]?x=1')
  assert.equal(redactUrl('/v1/world/hooks/by-token?token=abc&x=1'), '/v1/world/hooks/by-token?token=[redacted]&x=1')
  assert.equal(redactUrl('/.well-known/workflow/v1/webhook/tok123'), '/.well-known/workflow/v1/webhook/[redacted]')
  assert.equal(redactUrl('/v1/runs/wrun_1'), '/v1/runs/wrun_1')
  assert.equal(redactUrl('/v1/world/streams/read?name=strm_1&startIndex=-2&runId=wrun_1'), '/v1/world/streams/read?name=strm_1&startIndex=-2&runId=wrun_1')
})

test('redactUrl covers the usual names of credentials in a query string, in any case', () => {
  const names = [
    'token', 'key', 'access_token', 'refresh_token', 'id_token', 'auth', 'authorization', 'secret', 'client_secret', 'password',
    'passwd', 'pwd', 'api_key', 'apiKey', 'API-KEY', 'x-api-key', 'credential', 'credentials', 'signature', 'X-Amz-Signature', 'sig', 'session'
  ]
  for (const name of names) {
    assert.equal(redactUrl(`/v1/runs?limit=5&${name}=hunter2&cursor=c`), `/v1/runs?limit=5&${name}=[redacted]&cursor=c`, name)
    assert.equal(redactUrl(`/v1/runs?${name}=hunter2`), `/v1/runs?${name}=[redacted]`, name)
  }
})

test('redactText removes known secrets as written, URL-encoded and JSON-escaped, and URL secrets', () => {
  const token = 'approval:"order" 42'
  const line = `HookNotFoundError: ${token} | ${encodeURIComponent(token)} | ${JSON.stringify({ token })} | GET /x?token=abc`
  const redacted = redactText(line, [token])
  for (const form of [token, encodeURIComponent(token), JSON.stringify(token).slice(1, -1), 'abc']) assert.equal(redacted.includes(form), false, form)
  assert.equal(redactText('a plain line', ['ab']), 'a plain line', 'a value too short to tell from text is left')
})
