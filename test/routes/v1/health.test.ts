import assert from 'node:assert/strict'
import { test } from 'node:test'
import { breakLocalWorldRuns, build, sqliteOf } from '../../helper.js'
import { VERSION } from '../../../lib/version.js'

test('GET /v1/health answers 200 without a key, with World and database status', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/v1/health' })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.status, 'ok')
  assert.equal(body.database, 'ok')
  assert.equal(body.version, VERSION)
  assert.equal(body.world.status, 'ok')
  assert.equal(body.world.target, 'local')
  assert.equal(typeof body.world.specVersion, 'number')
  assert.match(res.headers['x-workflow-correlation-id'] as string, /^[0-9a-f-]{36}$/)
})

test('GET /v1/health answers 503 not_ready when the database is gone', async (t) => {
  const { app } = await build(t)
  sqliteOf(app).close()
  const res = await app.inject({ method: 'GET', url: '/v1/health' })
  assert.equal(res.statusCode, 503)
  const body = res.json()
  assert.equal(body.code, 'not_ready')
  assert.equal(body.database, 'unavailable')
  assert.equal(body.world.status, 'ok')
  assert.equal(body.correlationId, res.headers['x-workflow-correlation-id'])
})

test('GET /v1/health answers 503 not_ready when the World cannot read its store', async (t) => {
  const { app, dir } = await build(t)
  await breakLocalWorldRuns(dir)
  const res = await app.inject({ method: 'GET', url: '/v1/health' })
  assert.equal(res.statusCode, 503)
  const body = res.json()
  assert.equal(body.code, 'not_ready')
  assert.equal(body.world.status, 'unavailable')
  assert.equal(body.database, 'ok')
  assert.match(body.message, /World is unavailable/)
})
