import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { KEYS, SEED_KEYS, bearer, build } from '../helper.js'

const probe = (app: FastifyInstance) => {
  app.get('/probe/any-key', async () => ({ ok: true }))
}

test('the limit is per API key: one key exhausted, another still served', async (t) => {
  const { app } = await build(t, { rateLimitPerMinute: 3 }, probe)
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ url: '/probe/any-key', headers: bearer(KEYS.runsRead) })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['x-ratelimit-limit'], '3')
    assert.equal(res.headers['x-ratelimit-remaining'], String(2 - i))
  }
  const limited = await app.inject({ url: '/probe/any-key', headers: bearer(KEYS.runsRead) })
  assert.equal(limited.statusCode, 429)
  assert.equal(limited.json().code, 'rate_limited')
  assert.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60)
  assert.equal(limited.headers['x-ratelimit-remaining'], '0')

  const other = await app.inject({ url: '/probe/any-key', headers: bearer(KEYS.runsWrite) })
  assert.equal(other.statusCode, 200)
})

test('a key with its own rateLimitPerMinute is limited by that, not the default', async (t) => {
  const seedApiKeys = [...SEED_KEYS, { key: 'test-key-runtime-0000000000000001', scopes: ['world:proxy' as const], rateLimitPerMinute: 50 }]
  const { app } = await build(t, { rateLimitPerMinute: 2, seedApiKeys }, probe)
  for (let i = 0; i < 50; i++) {
    const res = await app.inject({ url: '/probe/any-key', headers: bearer('test-key-runtime-0000000000000001') })
    assert.equal(res.statusCode, 200, `request ${i + 1}`)
  }
  const limited = await app.inject({ url: '/probe/any-key', headers: bearer('test-key-runtime-0000000000000001') })
  assert.equal(limited.statusCode, 429)
})

test('unauthenticated requests are limited per IP, and 401s count', async (t) => {
  const { app } = await build(t, { rateLimitPerMinute: 2 }, probe)
  const from = (remoteAddress: string) => app.inject({ url: '/probe/any-key', remoteAddress })
  assert.equal((await from('10.0.0.1')).statusCode, 401)
  assert.equal((await from('10.0.0.1')).statusCode, 401)
  assert.equal((await from('10.0.0.1')).statusCode, 429)
  assert.equal((await from('10.0.0.2')).statusCode, 401)
})

test('GET /v1/health is exempt', async (t) => {
  const { app } = await build(t, { rateLimitPerMinute: 1 })
  for (let i = 0; i < 5; i++) {
    const res = await app.inject({ url: '/v1/health' })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['x-ratelimit-limit'], undefined)
  }
})
