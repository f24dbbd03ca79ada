import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { KEYS, bearer, build, sqliteOf } from '../helper.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const H = 'x-workflow-correlation-id'

function probeRoutes (app: FastifyInstance): void {
  app.get('/probe/echo', { config: { scope: 'runs:read' } }, async (request) => ({
    correlationId: request.correlationId,
    header: request.headers[H],
    requestId: request.id
  }))
  app.get('/probe/boom', { config: { auth: false } }, async () => {
    throw new Error('secret internals that must not leak')
  })
}

test('a caller id is kept: in the handler, in the request headers, as the request id, and on the response', async (t) => {
  const { app } = await build(t, {}, probeRoutes)
  const res = await app.inject({ url: '/probe/echo', headers: { ...bearer(KEYS.runsRead), [H]: 'order-42:attempt-1' } })
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers[H], 'order-42:attempt-1')
  assert.deepEqual(res.json(), { correlationId: 'order-42:attempt-1', header: 'order-42:attempt-1', requestId: 'order-42:attempt-1' })
})

test('without a caller id the worker generates a UUID v4 and injects it before routing', async (t) => {
  const { app } = await build(t, {}, probeRoutes)
  const res = await app.inject({ url: '/probe/echo', headers: bearer(KEYS.runsRead) })
  const id = res.headers[H] as string
  assert.match(id, UUID_V4)
  assert.deepEqual(res.json(), { correlationId: id, header: id, requestId: id })
  const again = await app.inject({ url: '/probe/echo', headers: bearer(KEYS.runsRead) })
  assert.notEqual(again.headers[H], id)
})

test('an unusable caller id (too long, control characters) is replaced, never echoed', async (t) => {
  const { app } = await build(t, {}, probeRoutes)
  for (const bad of ['x'.repeat(129), 'has space', 'line\tbreak', '']) {
    const res = await app.inject({ url: '/probe/echo', headers: { ...bearer(KEYS.runsRead), [H]: bad } })
    assert.match(res.headers[H] as string, UUID_V4, JSON.stringify(bad))
  }
})

test('every kind of response carries the correlation id: 200, 401, 403, 404, 429, 500, 503', async (t) => {
  const { app } = await build(t, {}, probeRoutes)
  const send = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ url, headers: { [H]: `cid-${url.length}-${Object.keys(headers).length}`, ...headers } })

  const responses = {
    200: await send('/v1/health'),
    401: await send('/probe/echo'),
    403: await send('/probe/echo', bearer(KEYS.none)),
    404: await send('/nope'),
    500: await send('/probe/boom')
  }
  for (const [status, res] of Object.entries(responses)) {
    assert.equal(res.statusCode, Number(status))
    assert.ok(res.headers[H], `${status} has the header`)
    if (Number(status) >= 400) assert.equal(res.json().correlationId, res.headers[H])
  }
  assert.deepEqual(Object.keys(responses[500].json()).sort(), ['code', 'correlationId', 'message'])
  assert.equal(responses[500].json().code, 'internal_error')
  assert.doesNotMatch(responses[500].body, /secret internals|at .*\.ts/)
})

test('429 and 503 carry the correlation id too', async (t) => {
  const { app } = await build(t, { rateLimitPerMinute: 1 }, probeRoutes)
  await app.inject({ url: '/nope' })
  const limited = await app.inject({ url: '/nope', headers: { [H]: 'limited-1' } })
  assert.equal(limited.statusCode, 429)
  assert.equal(limited.headers[H], 'limited-1')
  assert.equal(limited.json().correlationId, 'limited-1')

  sqliteOf(app).close()
  const unavailable = await app.inject({ url: '/v1/health', headers: { [H]: 'down-1' } })
  assert.equal(unavailable.statusCode, 503)
  assert.equal(unavailable.headers[H], 'down-1')
})
