import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { DatabaseVersionError, openDatabase } from '../../../lib/store/sqlite/database.js'
import { MIGRATIONS } from '../../../lib/store/sqlite/migrations.js'
import { tempDir } from '../../helper.js'

function versionOf (path: string): number {
  const db = new Database(path, { readonly: true })
  try {
    return db.pragma('user_version', { simple: true }) as number
  } finally {
    db.close()
  }
}

test('a new database file is opened in WAL mode, synchronous NORMAL, with a busy timeout and foreign keys', async (t) => {
  const path = join(await tempDir(t), 'nested', 'worker.db')
  const db = openDatabase(path)
  t.after(() => db.close())
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL')
  assert.ok((db.pragma('busy_timeout', { simple: true }) as number) > 0, 'a writer waits for the lock instead of failing at once')
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1)
  // Foreign keys are enforced, not only declared: no active pointer to a deployment that does not exist.
  assert.throws(() => db.prepare('INSERT INTO active_deployment (singleton, deployment_id, activated_at) VALUES (1, ?, 0)').run('dpl_missing'),
    /FOREIGN KEY constraint failed/)
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length)
})

test('migrations run once: re-opening keeps the data and the version', async (t) => {
  const path = join(await tempDir(t), 'worker.db')
  const first = openDatabase(path)
  first.prepare("INSERT INTO audit_log (at, action, outcome, metadata_json) VALUES (1, 'kept', 'success', '{}')").run()
  first.close()

  const again = openDatabase(path)
  t.after(() => again.close())
  assert.equal(again.pragma('user_version', { simple: true }), MIGRATIONS.length)
  assert.deepEqual(again.prepare('SELECT action FROM audit_log').all(), [{ action: 'kept' }])
})

test('a database at an older version gets only the migrations it lacks', async (t) => {
  const path = join(await tempDir(t), 'worker.db')
  const old = new Database(path)
  old.exec(MIGRATIONS[0])
  old.pragma('user_version = 1')
  old.prepare("INSERT INTO audit_log (at, action, outcome, metadata_json) VALUES (1, 'from-v1', 'success', '{}')").run()
  old.close()

  const db = openDatabase(path)
  t.after(() => db.close())
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length)
  assert.deepEqual(db.prepare('SELECT action FROM audit_log').all(), [{ action: 'from-v1' }])
  assert.ok(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'health_probe'").get() !== undefined)
})

test('a database written by a newer worker is refused and left as it was', async (t) => {
  const path = join(await tempDir(t), 'worker.db')
  const newer = new Database(path)
  newer.pragma(`user_version = ${MIGRATIONS.length + 1}`)
  newer.close()

  assert.throws(() => openDatabase(path), (error: unknown) => {
    assert.ok(error instanceof DatabaseVersionError)
    assert.match(error.message, new RegExp(`version ${MIGRATIONS.length + 1}, newer than this worker knows \\(${MIGRATIONS.length}\\)`))
    return true
  })
  assert.equal(versionOf(path), MIGRATIONS.length + 1)
  // Nothing was created in it either.
  const db = new Database(path, { readonly: true })
  t.after(() => db.close())
  assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), [])
})

test('migration 3 carries live webhook deliveries into the idempotency ledger and drops their table', async (t) => {
  const path = join(await tempDir(t), 'worker.db')
  const now = Date.now()
  const old = new Database(path)
  for (const migration of MIGRATIONS.slice(0, 2)) old.exec(migration)
  old.pragma('user_version = 2')
  const delivery = old.prepare(`INSERT INTO webhook_deliveries (provider, delivery_id, state, response_status, response_json, run_id, correlation_id, received_at, expires_at)
    VALUES (?, ?, ?, ?, ?, ?, 'corr', ?, ?)`)
  const record = old.prepare(`INSERT INTO idempotency_records (api_key_id, scope, idempotency_key, fingerprint, state, run_id, response_status, response_json, lease_until, created_at, updated_at, expires_at)
    VALUES (?, 'POST /v1/runs', ?, 'fp', ?, ?, ?, ?, ?, ?, ?, ?)`)
  delivery.run('github', 'done', 'completed', 202, '{"received":true,"deliveryId":"done","runId":"wrun_A"}', 'wrun_A', now - 10, now + 60_000)
  record.run('webhook:github', 'done', 'completed', 'wrun_A', 202, '{"runId":"wrun_A","deploymentId":"dpl_1","workflowName":"w"}', null, now - 10, now - 10, now + 30_000)
  delivery.run('quiet', 'ack', 'completed', 202, '{"received":true,"deliveryId":"ack"}', null, now - 10, now + 60_000)
  delivery.run('github', 'expired', 'completed', 202, '{}', null, now - 90_000, now - 1)
  // A crash mid-delivery: the trigger had fixed its run id and committed its plan.
  delivery.run('github', 'crashed', 'in_progress', null, null, null, now - 10, now + 60_000)
  record.run('webhook:github', 'crashed', 'in_progress', 'wrun_B', null, '{"deploymentId":"dpl_1","workflowName":"w"}', now + 5_000, now - 10, now - 10, now + 30_000)
  record.run('key_1', 'order-1', 'completed', 'wrun_C', 202, '{"runId":"wrun_C"}', null, now - 10, now - 10, now + 30_000)
  old.close()

  const db = openDatabase(path)
  t.after(() => db.close())
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'webhook_deliveries%'").get(), undefined)
  const rows = db.prepare(`SELECT api_key_id, scope, idempotency_key, fingerprint, state, run_id, response_status, response_json, lease_until, expires_at
    FROM idempotency_records ORDER BY api_key_id, idempotency_key`).all()
  const carried = { scope: 'POST /v1/webhooks/:provider', fingerprint: 'delivery-id', expires_at: now + 60_000 }
  assert.deepEqual(rows, [
    { api_key_id: 'key_1', scope: 'POST /v1/runs', idempotency_key: 'order-1', fingerprint: 'fp', state: 'completed', run_id: 'wrun_C', response_status: 202, response_json: '{"runId":"wrun_C"}', lease_until: null, expires_at: now + 30_000 },
    { ...carried, api_key_id: 'webhook:github', idempotency_key: 'crashed', state: 'in_progress', run_id: 'wrun_B', response_status: null, response_json: '{"deploymentId":"dpl_1","workflowName":"w"}', lease_until: 0 },
    { ...carried, api_key_id: 'webhook:github', idempotency_key: 'done', state: 'completed', run_id: 'wrun_A', response_status: 202, response_json: '{"body":{"received":true,"deliveryId":"done","runId":"wrun_A"},"runId":"wrun_A"}', lease_until: null },
    { ...carried, api_key_id: 'webhook:quiet', idempotency_key: 'ack', state: 'completed', run_id: null, response_status: 202, response_json: '{"body":{"received":true,"deliveryId":"ack"}}', lease_until: null }
  ])
})
