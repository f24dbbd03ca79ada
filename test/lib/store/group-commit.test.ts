import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import Database from 'better-sqlite3'
import { openDatabase } from '../../../lib/store/sqlite/database.js'
import { GroupCommit } from '../../../lib/store/sqlite/group-commit.js'
import { tempDir } from '../../helper.js'

async function files (t: TestContext): Promise<{ path: string, db: Database.Database, other: Database.Database }> {
  const path = join(await tempDir(t), 'group.db')
  const db = openDatabase(path)
  db.exec('CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)')
  // A second connection sees only what is committed, as the CLI or another process would.
  const other = new Database(path)
  t.after(() => { other.close(); db.close() })
  return { path, db, other }
}

function names (db: Database.Database): string[] {
  return db.prepare<[], { name: string }>('SELECT name FROM things ORDER BY id').all().map((row) => row.name)
}

test('the writes of one turn commit together, once; each settles only after the commit', async (t) => {
  const { db, other } = await files(t)
  const writes = new GroupCommit(db)
  const insert = db.prepare('INSERT INTO things (name) VALUES (?)')
  const version = other.prepare('PRAGMA data_version').pluck()
  const before = version.get() as number
  let committedWhenSettled: string[] | undefined
  const settled = Promise.all(['a', 'b', 'c', 'd'].map(async (name) => await writes.run(() => insert.run(name).changes)))
  void settled.then(() => { committedWhenSettled = names(other) })
  assert.deepEqual(names(other), [], 'nothing is written before the turn ends')
  assert.deepEqual(await settled, [1, 1, 1, 1])
  assert.deepEqual(committedWhenSettled, ['a', 'b', 'c', 'd'], 'a write settles once another connection can read it')
  assert.equal((version.get() as number) - before, 1, 'one commit for the four writes')
})

test('a write that throws is undone alone; the others of its batch commit', async (t) => {
  const { db, other } = await files(t)
  const writes = new GroupCommit(db)
  const insert = db.prepare('INSERT INTO things (name) VALUES (?)')
  const results = await Promise.allSettled([
    writes.run(() => insert.run('kept-1')),
    writes.run(() => { insert.run('undone'); insert.run('kept-1') }),
    writes.run(() => insert.run('kept-2'))
  ])
  assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled'])
  assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/)
  assert.deepEqual(names(other), ['kept-1', 'kept-2'], 'the failed write left nothing, not even its first row')
})

test('a batch whose commit cannot happen rejects every write of it and writes none', async (t) => {
  const { db, other } = await files(t)
  db.pragma('busy_timeout = 0')
  const writes = new GroupCommit(db)
  const insert = db.prepare('INSERT INTO things (name) VALUES (?)')
  other.exec('BEGIN IMMEDIATE') // another process holds the write lock
  const results = await Promise.allSettled([writes.run(() => insert.run('x')), writes.run(() => insert.run('y'))])
  other.exec('ROLLBACK')
  assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected'])
  assert.match(String((results[0] as PromiseRejectedResult).reason), /locked|busy/i)
  assert.deepEqual(names(other), [])
  // The next batch goes through.
  await writes.run(() => insert.run('z'))
  assert.deepEqual(names(other), ['z'])
})

test('flush() commits what is pending at once (before a read, before closing)', async (t) => {
  const { db, other } = await files(t)
  const writes = new GroupCommit(db)
  const insert = db.prepare('INSERT INTO things (name) VALUES (?)')
  const pending = writes.run(() => insert.run('now'))
  writes.flush()
  assert.deepEqual(names(other), ['now'])
  await pending
  db.close()
  const late = writes.run(() => insert.run('after close'))
  await assert.rejects(late, /not open/)
})
