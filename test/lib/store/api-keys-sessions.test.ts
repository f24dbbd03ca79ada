import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { hashApiKey } from '../../../lib/api-key-format.js'
import { ApiKeyStore } from '../../../lib/store/api-keys.js'
import { UiSessionStore } from '../../../lib/ui/sessions.js'
import { eachBackend } from './backends.js'

const MINUTE = 60_000
const SEED = 'seed-key-0000000000000000000000001'

eachBackend('keys: seeded once and updated by a re-seed; created, listed, authenticated, revoked', async (_t, { controlPlane, another }) => {
  const keys = new ApiKeyStore(controlPlane.apiKeys)
  await keys.seed([{ key: SEED, scopes: ['runs:read'], name: 'seed' }])
  const seeded = await keys.authenticate(SEED)
  assert.deepEqual(seeded && { ...seeded, id: 'x' }, { id: 'x', name: 'seed', scopes: ['runs:read'], rateLimitPerMinute: null })
  // A restart with other settings for the same key: the same row, the new settings.
  await keys.seed([{ key: SEED, scopes: ['runs:read', 'trigger:write'], name: 'seed2', rateLimitPerMinute: 5 }])
  const reseeded = await keys.authenticate(SEED)
  assert.deepEqual(reseeded, { id: seeded?.id, name: 'seed2', scopes: ['runs:read', 'trigger:write'], rateLimitPerMinute: 5 })

  const { key, record } = await keys.create({ scopes: ['deploy:read', 'deploy:read'], name: 'ci' }, 'api')
  assert.match(key, /^cw_/)
  assert.deepEqual([record.scopes, record.source, record.revokedAt], [['deploy:read'], 'api', null])
  assert.equal((await keys.authenticate(key))?.id, record.id)
  assert.equal(await keys.authenticate(key + 'x'), undefined)
  assert.deepEqual((await keys.list()).map((r) => r.id), [seeded?.id, record.id], 'oldest first')
  assert.equal(JSON.stringify(await keys.list()).includes(key), false, 'never the key')

  // Revoked through another worker on the same database: refused here from the next request on.
  const elsewhere = new ApiKeyStore((await another()).apiKeys)
  assert.equal(await elsewhere.revoke(record.id), true)
  assert.equal(await elsewhere.revoke(record.id), false, 'already revoked')
  assert.equal(await keys.authenticate(key), undefined)
  assert.equal(await keys.getLive(record.id), undefined)
  assert.equal((await keys.getLive(seeded?.id ?? ''))?.name, 'seed2')
  assert.ok((await keys.get(record.id))?.revokedAt)
  assert.equal(await keys.get('key_missing'), undefined)
})

eachBackend('keys: import copies rows as they are, once', async (_t, { separate }) => {
  const controlPlane = await separate()
  const row = {
    id: 'key_imported',
    keyHash: hashApiKey('imported-key-000000000000000000001'),
    name: 'old',
    scopes: ['audit:read' as const],
    rateLimitPerMinute: 7,
    source: 'cli' as const,
    createdAt: 1_000,
    lastUsedAt: 2_000,
    revokedAt: null
  }
  assert.equal(await controlPlane.apiKeys.import([row]), 1)
  assert.equal(await controlPlane.apiKeys.import([row, { ...row, name: 'changed' }]), 0)
  assert.deepEqual(await controlPlane.apiKeys.get('key_imported'), row)
  assert.equal((await new ApiKeyStore(controlPlane.apiKeys).authenticate('imported-key-000000000000000000001'))?.id, 'key_imported')
})

eachBackend('sessions: live while used, over after the idle period, the absolute lifetime, sign-out or the key\'s revocation', async (_t, { controlPlane }) => {
  const keys = new ApiKeyStore(controlPlane.apiKeys)
  const keyId = (await keys.create({ scopes: ['runs:read'], name: 'ops' })).record.id
  const other = (await keys.create({ scopes: ['deploy:read'] })).record.id
  let now = Date.parse('2026-01-15T09:00:00Z')
  const sessions = new UiSessionStore(controlPlane.uiSessions, { idleMs: 30 * MINUTE, absoluteMs: 12 * 60 * MINUTE }, () => now)

  const { token, session } = await sessions.create(keyId)
  assert.equal(session.keyId, keyId)
  assert.match(token, /^[A-Za-z0-9_-]{43}$/)
  assert.ok(await controlPlane.uiSessions.get(createHash('sha256').update(token).digest('hex')), 'stored under the hash of the cookie')
  assert.equal(await controlPlane.uiSessions.get(token), undefined, 'never under the cookie')
  for (let step = 0; step < 11 * 3; step++) {
    now += 20 * MINUTE
    assert.ok(await sessions.resolve(token), `alive after ${(step + 1) * 20} minutes of use`)
  }
  assert.equal((await sessions.resolve(token))?.csrfToken, session.csrfToken)
  now += 60 * MINUTE
  assert.equal(await sessions.resolve(token), undefined, 'over after 12 hours')

  const idle = await sessions.create(keyId)
  now += 29 * MINUTE
  assert.ok(await sessions.resolve(idle.token))
  now += 30 * MINUTE
  assert.equal(await sessions.resolve(idle.token), undefined, 'over after 30 idle minutes')

  const ended = await sessions.create(keyId)
  await sessions.end(ended.token)
  assert.equal(await sessions.resolve(ended.token), undefined)
  assert.equal(await sessions.resolve('not-a-session'), undefined)

  const a = await sessions.create(keyId)
  const b = await sessions.create(other)
  const stale = await sessions.create(other)
  assert.equal(await keys.revoke(keyId), true)
  assert.equal(await sessions.resolve(a.token), undefined, 'refused once the key is revoked')
  now += 20 * MINUTE
  assert.ok(await sessions.resolve(b.token))
  now += 20 * MINUTE
  assert.ok(await sessions.resolve(b.token))
  // `stale` was last used 40 minutes ago; the revoked key's session `a` was deleted by resolve already.
  assert.equal(await sessions.purgeExpired(), 1)
  assert.equal(await sessions.resolve(stale.token), undefined)
  assert.ok(await sessions.resolve(b.token))
})

eachBackend('probes: a read, a committed write, the schema version', async (_t, { controlPlane }) => {
  assert.equal(await controlPlane.probe(), true)
  await controlPlane.probeWrite(Date.now())
  await controlPlane.probeWrite(Date.now())
  assert.ok(await controlPlane.schemaVersion() >= 1)
  await controlPlane.close()
  assert.equal(await controlPlane.probe(), false, 'closed: not usable, and the probe says so without throwing')
  await assert.rejects(controlPlane.probeWrite(Date.now()))
})
