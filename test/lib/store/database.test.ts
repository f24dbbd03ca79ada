import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { DatabaseVersionError, openDatabase } from '../../../lib/store/database.js'
import { MIGRATIONS } from '../../../lib/store/migrations.js'
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
