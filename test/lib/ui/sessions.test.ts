import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { test } from 'node:test'
import { ApiKeyStore } from '../../../lib/store/api-keys.js'
import { openDatabase } from '../../../lib/store/database.js'
import { UiSessionStore } from '../../../lib/ui/sessions.js'
import { tempDir } from '../../helper.js'

const MINUTE = 60_000

async function setup (t: import('node:test').TestContext) {
  const db = openDatabase(join(await tempDir(t), 'worker.db'))
  t.after(() => db.close())
  const keys = new ApiKeyStore(db)
  const { record } = keys.create({ scopes: ['runs:read'], name: 'ops' })
  let now = Date.parse('2026-01-15T09:00:00Z')
  const clock = { advance: (ms: number) => { now += ms } }
  const sessions = new UiSessionStore(db, { idleMs: 30 * MINUTE, absoluteMs: 12 * 60 * MINUTE }, () => now)
  return { db, keys, keyId: record.id, sessions, clock }
}

test('a session lives while used, ends after its idle period or its absolute lifetime, and with sign-out', async (t) => {
  const { db, keyId, sessions, clock } = await setup(t)

  const { token, session } = await sessions.create(keyId)
  assert.equal(session.keyId, keyId)
  assert.match(token, /^[A-Za-z0-9_-]{43}$/)
  const stored = db.prepare('SELECT * FROM ui_sessions').all() as Array<{ id: string }>
  assert.equal(stored.length, 1)
  assert.equal(stored[0].id, createHash('sha256').update(token).digest('hex'), 'the database holds the hash, never the cookie')
  assert.equal(JSON.stringify(stored).includes(token), false)

  // Used every 20 minutes, it outlives its 30-minute idle period ...
  for (let hour = 0; hour < 11 * 3; hour++) {
    clock.advance(20 * MINUTE)
    assert.ok(await sessions.resolve(token), `alive after ${(hour + 1) * 20} minutes of use`)
  }
  assert.equal((await sessions.resolve(token))?.csrfToken, session.csrfToken, 'the CSRF token stays the same for the session')
  // ... but not its 12 hours.
  clock.advance(60 * MINUTE)
  assert.equal(await sessions.resolve(token), undefined, 'over after 12 hours')

  const idle = await sessions.create(keyId)
  clock.advance(29 * MINUTE)
  assert.ok(await sessions.resolve(idle.token))
  clock.advance(30 * MINUTE)
  assert.equal(await sessions.resolve(idle.token), undefined, 'over after 30 idle minutes')

  const ended = await sessions.create(keyId)
  await sessions.end(ended.token)
  assert.equal(await sessions.resolve(ended.token), undefined, 'sign-out ends it at once')
  assert.equal(await sessions.resolve('not-a-session'), undefined)
})

test('revoking the key ends its sessions; expired and revoked sessions are purged', async (t) => {
  const { keys, keyId, sessions, clock, db } = await setup(t)
  const other = keys.create({ scopes: ['deploy:read'] }).record.id
  const a = await sessions.create(keyId)
  const b = await sessions.create(other)
  const stale = await sessions.create(other)
  assert.notEqual(a.session.csrfToken, b.session.csrfToken)

  assert.equal(keys.revoke(keyId), true)
  assert.equal(await sessions.resolve(a.token), undefined, 'refused from the next request on')
  clock.advance(20 * MINUTE)
  assert.ok(await sessions.resolve(b.token))
  clock.advance(20 * MINUTE)
  assert.ok(await sessions.resolve(b.token))
  // `stale` was last used 40 minutes ago; `a` belongs to a revoked key (resolve deleted it already).
  assert.equal(await sessions.purgeExpired(), 1)
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM ui_sessions').get() as { n: number }).n, 1)
  assert.equal(await sessions.resolve(stale.token), undefined)
})
