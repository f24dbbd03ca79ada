import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { loggerOptions, redactUrl } from '../lib/logging.js'
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
})
