import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { KEYS, bearer, build } from '../helper.js'

const probe = (app: FastifyInstance) => {
  app.get('/probe/any-key', async () => ({ ok: true }))
}

test('requireHttps refuses plain HTTP with 403 https_required, before authentication', async (t) => {
  const { app } = await build(t, { requireHttps: true }, probe)
  const res = await app.inject({ url: '/probe/any-key', headers: bearer(KEYS.admin) })
  assert.equal(res.statusCode, 403)
  assert.equal(res.json().code, 'https_required')
  assert.ok(res.headers['x-workflow-correlation-id'])
  const anonymous = await app.inject({ url: '/probe/any-key' })
  assert.equal(anonymous.json().code, 'https_required')
})

test('without trustProxy, x-forwarded-proto: https is not believed', async (t) => {
  const { app } = await build(t, { requireHttps: true }, probe)
  const res = await app.inject({ url: '/probe/any-key', headers: { ...bearer(KEYS.admin), 'x-forwarded-proto': 'https' } })
  assert.equal(res.statusCode, 403)
  assert.equal(res.json().code, 'https_required')
})

test('with trustProxy, a request forwarded as https passes and one forwarded as http does not', async (t) => {
  const { app } = await build(t, { requireHttps: true, trustProxy: true }, probe)
  const https = await app.inject({ url: '/probe/any-key', headers: { ...bearer(KEYS.admin), 'x-forwarded-proto': 'https' } })
  assert.equal(https.statusCode, 200)
  const http = await app.inject({ url: '/probe/any-key', headers: { ...bearer(KEYS.admin), 'x-forwarded-proto': 'http' } })
  assert.equal(http.statusCode, 403)
})

test('trustProxy limited to an address believes only that proxy', async (t) => {
  const { app } = await build(t, { requireHttps: true, trustProxy: '10.0.0.1' }, probe)
  const headers = { ...bearer(KEYS.admin), 'x-forwarded-proto': 'https' }
  assert.equal((await app.inject({ url: '/probe/any-key', headers, remoteAddress: '10.0.0.1' })).statusCode, 200)
  assert.equal((await app.inject({ url: '/probe/any-key', headers, remoteAddress: '10.0.0.9' })).statusCode, 403)
})

test('GET /v1/health is exempt from requireHttps', async (t) => {
  const { app } = await build(t, { requireHttps: true })
  const res = await app.inject({ url: '/v1/health' })
  assert.equal(res.statusCode, 200)
})

test('the fetch front\'s protocol header is believed only from inject, and set by the front itself', async (t) => {
  const { app } = await build(t, { requireHttps: true }, probe)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const res = await fetch(`http://127.0.0.1:${port}/probe/any-key`, {
    headers: { ...bearer(KEYS.admin), 'x-compute-worker-fetch-protocol': 'https' }
  })
  assert.equal(res.status, 403)
  assert.equal((await res.json()).code, 'https_required')
})
