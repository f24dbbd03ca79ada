import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { SCOPES, type Scope } from '../../lib/scopes.js'
import { KEYS, SEED_KEYS, bearer, build, sqliteOf } from '../helper.js'
import { hashApiKey } from '../../lib/api-key-format.js'

/** One probe route per scope, plus one that needs any valid key. */
function scopedRoutes (app: FastifyInstance): void {
  for (const scope of SCOPES) {
    app.post(`/probe/${scope.replace(':', '-')}`, { config: { scope } }, async (request) => ({ key: request.callerKey?.id, scope }))
  }
  app.get('/probe/any-key', async (request) => ({ name: request.callerKey?.name }))
}

const keyFor: Record<Scope, string> = {
  'trigger:write': KEYS.triggerWrite,
  'runs:read': KEYS.runsRead,
  'runs:write': KEYS.runsWrite,
  'deploy:read': KEYS.deployRead,
  'deploy:write': KEYS.deployWrite,
  'world:proxy': KEYS.worldProxy,
  'audit:read': KEYS.auditRead,
  'metrics:read': KEYS.metricsRead
}

test('each scope lets its own key in and refuses every other key with 403 forbidden', async (t) => {
  const { app } = await build(t, {}, scopedRoutes)
  for (const scope of SCOPES) {
    const url = `/probe/${scope.replace(':', '-')}`
    const allowed = await app.inject({ method: 'POST', url, headers: bearer(keyFor[scope]) })
    assert.equal(allowed.statusCode, 200, `${scope} with its key`)
    const admin = await app.inject({ method: 'POST', url, headers: bearer(KEYS.admin) })
    assert.equal(admin.statusCode, 200, `${scope} with the admin key`)
    for (const [other, key] of Object.entries(keyFor)) {
      if (other === scope) continue
      const refused = await app.inject({ method: 'POST', url, headers: bearer(key) })
      assert.equal(refused.statusCode, 403, `${scope} with the ${other} key`)
      const body = refused.json()
      assert.equal(body.code, 'forbidden')
      assert.equal(body.requiredScope, scope)
      assert.equal(body.correlationId, refused.headers['x-workflow-correlation-id'])
    }
    const none = await app.inject({ method: 'POST', url, headers: bearer(KEYS.none) })
    assert.equal(none.statusCode, 403)
  }
})

test('a missing, malformed or unknown key gets 401 unauthorized with WWW-Authenticate: Bearer', async (t) => {
  const { app } = await build(t, {}, scopedRoutes)
  const cases: Array<Record<string, string>> = [
    {},
    { authorization: 'Bearer' },
    { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    { authorization: 'Bearer test-key-that-does-not-exist-000001' },
    { authorization: `Bearer ${KEYS.admin}x` }
  ]
  for (const headers of cases) {
    const res = await app.inject({ method: 'GET', url: '/probe/any-key', headers })
    assert.equal(res.statusCode, 401, JSON.stringify(headers))
    assert.match(res.headers['www-authenticate'] as string, /^Bearer/)
    const body = res.json()
    assert.equal(body.code, 'unauthorized')
    assert.equal(body.correlationId, res.headers['x-workflow-correlation-id'])
  }
  const ok = await app.inject({ method: 'GET', url: '/probe/any-key', headers: { authorization: `bearer   ${KEYS.none}` } })
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(ok.json(), { name: 'no-scopes' })
})

test('an unauthorized request is refused before its body is parsed', async (t) => {
  const { app } = await build(t, {}, scopedRoutes)
  const res = await app.inject({
    method: 'POST',
    url: '/probe/runs-read',
    headers: { 'content-type': 'application/json' },
    payload: '{"not json'
  })
  assert.equal(res.statusCode, 401)
})

test('keys are stored only as SHA-256 hashes, seeded idempotently, and revocation is immediate', async (t) => {
  const { app, options } = await build(t, {}, scopedRoutes)
  const rows = sqliteOf(app).prepare('SELECT key_hash, name FROM api_keys ORDER BY name').all() as Array<{ key_hash: Buffer, name: string }>
  assert.equal(rows.length, SEED_KEYS.length)
  for (const seed of SEED_KEYS) {
    assert.ok(rows.some((row) => row.key_hash.equals(hashApiKey(seed.key))), seed.name)
  }
  app.apiKeys.seed(SEED_KEYS) // a second start-up changes nothing
  assert.equal((sqliteOf(app).prepare('SELECT count(*) AS n FROM api_keys').get() as { n: number }).n, SEED_KEYS.length)

  sqliteOf(app).pragma('wal_checkpoint(TRUNCATE)')
  const file = await readFile(options.sqlitePath as string)
  for (const seed of SEED_KEYS) assert.equal(file.includes(Buffer.from(seed.key)), false, `${seed.name} in clear on disk`)

  const id = (await app.apiKeys.list()).find((key) => key.name === 'runs-read')?.id as string
  assert.equal((await app.apiKeys.revoke(id)), true)
  const res = await app.inject({ method: 'POST', url: '/probe/runs-read', headers: bearer(KEYS.runsRead) })
  assert.equal(res.statusCode, 401)
})

test('a seed key present already takes the configured scopes on the next start', async (t) => {
  const { app } = await build(t)
  app.apiKeys.seed([{ key: KEYS.none, scopes: ['runs:read'], name: 'promoted', rateLimitPerMinute: 5 }])
  const key = (await app.apiKeys.authenticate(KEYS.none))
  assert.deepEqual(key?.scopes, ['runs:read'])
  assert.equal(key?.name, 'promoted')
  assert.equal(key?.rateLimitPerMinute, 5)
})
