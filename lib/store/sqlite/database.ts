import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS } from './migrations.js'

export type SqliteDatabase = Database.Database

export class DatabaseVersionError extends Error {
  constructor (path: string, found: number, known: number) {
    super(`database ${path} is at schema version ${found}, newer than this worker knows (${known}); upgrade the worker`)
    this.name = 'DatabaseVersionError'
  }
}

/** Opens (creating if needed) the control-plane database and brings its schema up to date. */
export function openDatabase (path: string): SqliteDatabase {
  const inMemory = path === ':memory:' || path === ''
  if (!inMemory) mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  try {
    if (!inMemory) db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('busy_timeout = 5000')
    db.pragma('foreign_keys = ON')
    migrate(db, path)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

export function migrate (db: SqliteDatabase, path = db.name): number {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > MIGRATIONS.length) throw new DatabaseVersionError(path, current, MIGRATIONS.length)
  for (let version = current; version < MIGRATIONS.length; version++) {
    // Each step and its version bump commit together: a crash leaves the previous version whole.
    db.transaction(() => {
      db.exec(MIGRATIONS[version])
      db.pragma(`user_version = ${version + 1}`)
    }).immediate()
  }
  return MIGRATIONS.length
}
