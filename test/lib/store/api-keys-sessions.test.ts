import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { hashApiKey } from '../../../lib/api-key-format.js'
import { ApiKeyStore } from '../../../lib/store/api-keys.js'
import { UiSessionStore } from '../../../lib/ui/sessions.js'
import { eachBackend } from './backends.js'

const MINUTE = 60_000

/**
 * Authenticates `key` until it is served from the cache: on PostgreSQL the cache holds nothing
 * until the notification connection listens (opened by the first lookup).
 */
async function cachedHere (table: { changeToken: () => unknown }, keys: ApiKeyStore, key: string): Promise<void> {
  await until(() => table.changeToken() !== undefined)
  assert.ok(await keys.authenticate(key))
  assert.ok(await keys.authenticate(key))
}

/** Until the table knows of a change since `before` (at once on SQLite; PostgreSQL's notification arrives on its own connection). */
async function changed (table: { changeToken: () => unknown }, before: unknown): Promise<void> {
  await until(() => table.changeToken() !== before)
}

// Polls for what arrives on a connection of its own (a PostgreSQL notification), for at most 5 s.
async function until (done: () => boolean): Promise<void> {
  for (let i = 0; i < 2_500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 2))
  assert.ok(done(), 'the change was never seen')
}
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

  // Revoked through another worker on the same database: refused here from the next request on
  // (on PostgreSQL, once its notification has arrived: it is sent at the revocation's commit).
  const elsewhere = new ApiKeyStore((await another()).apiKeys)
  await cachedHere(controlPlane.apiKeys, keys, key)
  const before = controlPlane.apiKeys.changeToken()
  assert.equal(await elsewhere.revoke(record.id), true)
  assert.equal(await elsewhere.revoke(record.id), false, 'already revoked')
  await changed(controlPlane.apiKeys, before)
  assert.equal(await keys.authenticate(key), undefined)
  assert.equal(await keys.getLive(record.id), undefined)
  assert.equal((await keys.getLive(seeded?.id ?? ''))?.name, 'seed2')
  assert.ok((await keys.get(record.id))?.revokedAt)
  assert.equal(await keys.get('key_missing'), undefined)
})

eachBackend('keys: the cache follows every key change, in this process and in another, without waiting out its lifetime', async (t, { controlPlane, another }) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
  const keys = new ApiKeyStore(controlPlane.apiKeys)
  const elsewhere = new ApiKeyStore((await another()).apiKeys)
  const seen = new Map<string, number>()
  const here = controlPlane.apiKeys.findLiveByHash.bind(controlPlane.apiKeys)
  controlPlane.apiKeys.findLiveByHash = async (hash) => {
    seen.set('here', (seen.get('here') ?? 0) + 1)
    return await here(hash)
  }

  const { key, record } = await keys.create({ scopes: ['runs:read'] })
  await cachedHere(controlPlane.apiKeys, keys, key)
  const reads = seen.get('here') ?? 0
  assert.equal((await keys.authenticate(key))?.id, record.id)
  assert.equal(seen.get('here'), reads, 'a cached key is not read again')

  // Another process creates a key: the token moves (a change elsewhere), the next lookup reads it.
  let before = controlPlane.apiKeys.changeToken()
  const made = await elsewhere.create({ scopes: ['runs:read'] })
  await changed(controlPlane.apiKeys, before)
  assert.equal((await keys.authenticate(made.key))?.id, made.record.id)
  assert.equal((await keys.authenticate(key))?.id, record.id)
  assert.ok((seen.get('here') ?? 0) > reads, 'read again after a change elsewhere')

  // Revoked in this process: refused at once on either backend.
  await cachedHere(controlPlane.apiKeys, keys, key)
  assert.equal(await keys.revoke(record.id), true)
  assert.equal(await keys.authenticate(key), undefined)

  // Revoked elsewhere: refused on the next request after the change is known.
  await cachedHere(controlPlane.apiKeys, keys, made.key)
  before = controlPlane.apiKeys.changeToken()
  assert.equal(await elsewhere.revoke(made.record.id), true)
  await changed(controlPlane.apiKeys, before)
  assert.equal(await keys.authenticate(made.key), undefined)
  assert.equal(await keys.authenticate(key), undefined, 'a revoked key is never cached')

  // A cached key is read again after its lifetime, whatever the token says.
  const { key: third } = await keys.create({ scopes: ['runs:read'] })
  await cachedHere(controlPlane.apiKeys, keys, third)
  const cachedReads = seen.get('here') ?? 0
  t.mock.timers.tick(1_000)
  assert.ok(await keys.authenticate(third))
  assert.equal(seen.get('here'), cachedReads + 1, 'read again once its lifetime is over')
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
