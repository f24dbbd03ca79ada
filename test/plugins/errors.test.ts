import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { describeError } from '../../http/errors.js'
import { DomainError } from '../../lib/errors.js'
import correlationPlugin from '../../plugins/correlation.js'
import errorsPlugin from '../../plugins/errors.js'
import validationPlugin from '../../plugins/validation.js'

/** The validation and error plugins on a bare Fastify (with the correlation id they answer with), and probe routes. */
async function bare (t: TestContext): Promise<FastifyInstance> {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(correlationPlugin)
  await app.register(validationPlugin)
  await app.register(errorsPlugin)
  app.post('/probe/validated', {
    bodyLimit: 64,
    schema: { body: Type.Object({ name: Type.String({ minLength: 1 }), count: Type.Integer() }, { additionalProperties: false }) }
  }, async () => ({ ok: true }))
  app.get('/probe/domain-error', async () => {
    throw new DomainError('run_already_finished', 'The run is completed', { details: { runId: 'wrun_1' } })
  })
  // What http-errors (and so most plugins) throw: an Error with nothing but a statusCode.
  app.get('/probe/status-only', async () => {
    throw Object.assign(new Error('No such thing'), { statusCode: 404 })
  })
  await app.ready()
  return app
}

test('schema failures are 400 validation_error with the failing paths', async (t) => {
  const app = await bare(t)
  const res = await app.inject({ method: 'POST', url: '/probe/validated', payload: { name: '', count: 'x' } })
  assert.equal(res.statusCode, 400)
  const body = res.json()
  assert.equal(body.code, 'validation_error')
  assert.equal(typeof body.message, 'string')
  assert.ok(Array.isArray(body.validation))
  assert.ok(body.validation.every((issue: { in: string }) => issue.in === 'body'))
  assert.ok(body.validation.some((issue: { path: string }) => issue.path === '/name' || issue.path === '/count'))
  assert.equal(body.correlationId, res.headers['x-workflow-correlation-id'])
})

test('a body is validated as sent: no coercion of "1" to 1, no silent removal of a field the schema does not allow', async (t) => {
  const app = await bare(t)
  const valid = await app.inject({ method: 'POST', url: '/probe/validated', payload: { name: 'a', count: 1 } })
  assert.equal(valid.statusCode, 200)
  for (const payload of [{ name: 'a', count: '1' }, { name: 'a', count: 1, extra: true }]) {
    const res = await app.inject({ method: 'POST', url: '/probe/validated', payload })
    assert.equal(res.statusCode, 400, JSON.stringify(payload))
    assert.equal(res.json().code, 'validation_error')
  }
})

test('malformed JSON is 400 validation_error; a wrong media type 415; an oversized body 413', async (t) => {
  const app = await bare(t)
  const malformed = await app.inject({
    method: 'POST', url: '/probe/validated', headers: { 'content-type': 'application/json' }, payload: '{"name":'
  })
  assert.equal(malformed.statusCode, 400)
  assert.equal(malformed.json().code, 'validation_error')

  const media = await app.inject({
    method: 'POST', url: '/probe/validated', headers: { 'content-type': 'application/x-unknown' }, payload: 'x'
  })
  assert.equal(media.statusCode, 415)
  assert.equal(media.json().code, 'unsupported_media_type')

  const large = await app.inject({
    method: 'POST', url: '/probe/validated', payload: { name: 'x'.repeat(100), count: 1 }
  })
  assert.equal(large.statusCode, 413)
  assert.equal(large.json().code, 'payload_too_large')
})

test('a DomainError gets its code\'s status and keeps its code and details; a status-only error keeps its status', async (t) => {
  const app = await bare(t)
  const conflict = await app.inject({ url: '/probe/domain-error' })
  assert.equal(conflict.statusCode, 409)
  assert.deepEqual({ ...conflict.json() as object, correlationId: 'x' }, {
    code: 'run_already_finished', message: 'The run is completed', runId: 'wrun_1', correlationId: 'x'
  })
  const missing = await app.inject({ url: '/probe/status-only' })
  assert.equal(missing.statusCode, 404)
  assert.equal(missing.json().code, 'not_found')
  assert.equal(missing.json().message, 'No such thing')
})

test('unknown routes are 404 not_found JSON, without the query string in the message', async (t) => {
  const app = await bare(t)
  const res = await app.inject({ url: '/v1/nothing/here?token=secret' })
  assert.equal(res.statusCode, 404)
  assert.match(res.headers['content-type'] as string, /application\/json/)
  assert.equal(res.json().code, 'not_found')
  assert.doesNotMatch(res.body, /secret/)
})

test('describeError hides unexpected errors and keeps 4xx from Fastify', () => {
  assert.deepEqual(describeError(new TypeError('x is undefined')), { statusCode: 500, code: 'internal_error', message: 'Internal server error' })
  assert.equal(describeError(Object.assign(new Error('too big'), { statusCode: 413 })).code, 'payload_too_large')
  assert.equal(describeError(Object.assign(new Error('down'), { statusCode: 503 })).code, 'not_ready')
  assert.equal(describeError(undefined).statusCode, 500)
})
