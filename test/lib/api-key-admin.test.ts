import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { ApiKeyAdminError, createApiKey, listApiKeys, revokeApiKey } from '../../index.js'
import { generateApiKey, hasValidChecksum, hashApiKey } from '../../lib/api-key-format.js'
import { buildComputeWorkerApp } from '../../server.js'
import { bearer, build, tempDir, testOptions } from '../helper.js'

function readRoute (app: FastifyInstance): void {
  app.get('/probe/runs-read', { config: { scope: 'runs:read' } }, async (request) => ({ id: request.callerKey?.id }))
}

test('createApiKey makes a cw_ key with a valid checksum, stored only as a hash', async (t) => {
  const sqlitePath = join(await tempDir(t), 'worker.db')
  const { key, record } = await createApiKey({ sqlitePath, scopes: ['runs:read', 'trigger:write', 'runs:read'], name: 'ci', rateLimitPerMinute: 50 })
  assert.match(key, /^cw_[0-9A-Za-z]{49}$/)
  assert.ok(hasValidChecksum(key))
  assert.deepEqual(record.scopes, ['runs:read', 'trigger:write'])
  assert.equal(record.name, 'ci')
  assert.equal(record.rateLimitPerMinute, 50)
  assert.equal(record.source, 'cli')
  assert.equal(record.lastUsedAt, null)
  assert.equal(record.revokedAt, null)

  const listed = await listApiKeys({ sqlitePath })
  assert.deepEqual(listed, [record])
  assert.equal(JSON.stringify(listed).includes(key), false)
  assert.equal(JSON.stringify(listed).includes(hashApiKey(key).toString('hex')), false)
})

test('createApiKey and revokeApiKey refuse bad input with ApiKeyAdminError', async (t) => {
  const sqlitePath = join(await tempDir(t), 'worker.db')
  const cases: Array<[() => Promise<unknown>, RegExp]> = [
    [() => createApiKey({ sqlitePath, scopes: [] }), /at least one scope/],
    [() => createApiKey({ sqlitePath, scopes: ['runs:read', 'root', 'admin'] }), /unknown scopes "root", "admin"; known scopes: trigger:write/],
    [() => createApiKey({ sqlitePath, scopes: ['runs:read'], rateLimitPerMinute: 0 }), /positive integer/],
    [() => createApiKey({ sqlitePath, scopes: ['runs:read'], rateLimitPerMinute: 1.5 }), /positive integer/],
    [() => createApiKey({ sqlitePath, scopes: ['runs:read'], name: '  ' }), /name/],
    [() => revokeApiKey({ sqlitePath, id: 'key_nope' }), /no API key with id "key_nope"/]
  ]
  for (const [call, message] of cases) {
    await assert.rejects(call, (error: Error) => error instanceof ApiKeyAdminError && message.test(error.message))
  }
  assert.deepEqual(await listApiKeys({ sqlitePath }), [])
})

test('a key created and revoked through another connection to the file takes effect on the next request', async (t) => {
  const { app, options } = await build(t, {}, readRoute)
  const sqlitePath = options.sqlitePath as string
  const { key, record } = await createApiKey({ sqlitePath, scopes: ['runs:read'] })

  const allowed = await app.inject({ method: 'GET', url: '/probe/runs-read', headers: bearer(key) })
  assert.equal(allowed.statusCode, 200)
  assert.equal(allowed.json().id, record.id)

  const first = await revokeApiKey({ sqlitePath, id: record.id })
  assert.equal(first.revokedNow, true)
  assert.ok(first.record.revokedAt !== null)
  const refused = await app.inject({ method: 'GET', url: '/probe/runs-read', headers: bearer(key) })
  assert.equal(refused.statusCode, 401)
  assert.equal(refused.json().code, 'unauthorized')

  const again = await revokeApiKey({ sqlitePath, id: record.id })
  assert.equal(again.revokedNow, false)
  assert.equal(again.record.revokedAt, first.record.revokedAt)

  const [listed] = (await listApiKeys({ sqlitePath })).filter((r) => r.id === record.id)
  assert.ok(listed.lastUsedAt !== null, 'the accepted request recorded its use')
})

test('a cw_ key whose checksum is wrong is refused with 401 even when the database holds it', async (t) => {
  const { app } = await build(t, {}, readRoute)
  const good = generateApiKey()
  const last = good.at(-1) === 'A' ? 'B' : 'A'
  const typo = good.slice(0, -1) + last
  assert.equal(hasValidChecksum(typo), false)
  // Stored as is (seeding validates, the store does not): only the checksum can refuse it.
  app.apiKeys.seed([{ key: typo, scopes: ['runs:read'] }])
  const res = await app.inject({ method: 'GET', url: '/probe/runs-read', headers: bearer(typo) })
  assert.equal(res.statusCode, 401)
  assert.equal(res.json().code, 'unauthorized')
  assert.match(res.headers['www-authenticate'] as string, /^Bearer/)

  app.apiKeys.seed([{ key: good, scopes: ['runs:read'] }])
  assert.equal((await app.inject({ method: 'GET', url: '/probe/runs-read', headers: bearer(good) })).statusCode, 200)
})

test('seeding a cw_ key with a bad checksum fails start-up, naming the entry', async (t) => {
  const good = generateApiKey()
  const { options } = await testOptions(t, { seedApiKeys: [{ key: good.slice(0, -2) + 'zz', scopes: ['runs:read'] }] })
  assert.throws(() => buildComputeWorkerApp(options), /seedApiKeys\[0\]\.key.*starts with cw_/)
})
