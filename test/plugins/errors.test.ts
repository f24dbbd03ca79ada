import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { describeError } from '../../http/errors.js'
import { DomainError } from '../../lib/errors.js'
import { KEYS, bearer, build } from '../helper.js'

function probeRoutes (app: FastifyInstance): void {
  app.post('/probe/validated', {
    config: { scope: 'runs:write' },
    bodyLimit: 64,
    schema: { body: Type.Object({ name: Type.String({ minLength: 1 }), count: Type.Integer() }, { additionalProperties: false }) }
  }, async () => ({ ok: true }))
  app.get('/probe/domain-error', { config: { auth: false } }, async () => {
    throw new DomainError('run_already_finished', 'The run is completed', { details: { runId: 'wrun_1' } })
  })
  // What http-errors (and so most plugins) throw: an Error with nothing but a statusCode.
  app.get('/probe/status-only', { config: { auth: false } }, async () => {
    throw Object.assign(new Error('No such thing'), { statusCode: 404 })
  })
}

test('schema failures are 400 validation_error with the failing paths', async (t) => {
  const { app } = await build(t, {}, probeRoutes)
  const res = await app.inject({ method: 'POST', url: '/probe/validated', headers: bearer(KEYS.runsWrite), payload: { name: '', count: 'x' } })
  assert.equal(res.statusCode, 400)
  const body = res.json()
  assert.equal(body.code, 'validation_error')
  assert.equal(typeof body.message, 'string')
  assert.ok(Array.isArray(body.validation))
  assert.ok(body.validation.every((issue: { in: string }) => issue.in === 'body'))
  assert.ok(body.validation.some((issue: { path: string }) => issue.path === '/name' || issue.path === '/count'))
})

test('malformed JSON is 400 validation_error; a wrong media type 415; an oversized body 413', async (t) => {
  const { app } = await build(t, {}, probeRoutes)
  const malformed = await app.inject({
    method: 'POST', url: '/probe/validated', headers: { ...bearer(KEYS.runsWrite), 'content-type': 'application/json' }, payload: '{"name":'
  })
  assert.equal(malformed.statusCode, 400)
  assert.equal(malformed.json().code, 'validation_error')

  const media = await app.inject({
    method: 'POST', url: '/probe/validated', headers: { ...bearer(KEYS.runsWrite), 'content-type': 'application/x-unknown' }, payload: 'x'
  })
  assert.equal(media.statusCode, 415)
  assert.equal(media.json().code, 'unsupported_media_type')

  const large = await app.inject({
    method: 'POST', url: '/probe/validated', headers: bearer(KEYS.runsWrite), payload: { name: 'x'.repeat(100), count: 1 }
  })
  assert.equal(large.statusCode, 413)
  assert.equal(large.json().code, 'payload_too_large')
})

test('a DomainError gets its code\'s status and keeps its code and details; a status-only error keeps its status', async (t) => {
  const { app } = await build(t, {}, probeRoutes)
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
  const { app } = await build(t)
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
