import { performance } from 'node:perf_hooks'
import type { SqliteDatabase } from '../store/database.js'
import type { WorkerMetrics } from './metrics.js'

const TIMED = ['run', 'get', 'all'] as const

/** `select api_keys`, `insert idempotency_records`…: the verb and first table of a statement, a label bounded by the code. */
export function operationOf (sql: string): string {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? 'sql'
  const table = /\b(?:from|into|update|join)\s+["`[]?(\w+)/i.exec(sql)?.[1]?.toLowerCase()
  return table === undefined ? verb : `${verb} ${table}`
}

/**
 * Times every statement the control-plane stores prepare from now on (they prepare theirs in
 * their constructors, so this is applied as the database opens). The database and its
 * statements stay the same objects: only their run/get/all are wrapped.
 */
export function measureDatabase (db: SqliteDatabase, metrics: WorkerMetrics): SqliteDatabase {
  const prepare = db.prepare.bind(db)
  db.prepare = ((sql: string) => {
    const statement = prepare(sql)
    const methods = statement as unknown as Record<string, (...args: unknown[]) => unknown>
    const operation = operationOf(sql)
    for (const name of TIMED) {
      const original = methods[name].bind(statement)
      methods[name] = (...args: unknown[]) => {
        const started = performance.now()
        try {
          const result = original(...args)
          metrics.storeOperation(operation, 'ok', (performance.now() - started) / 1000)
          return result
        } catch (error) {
          metrics.storeOperation(operation, 'error', (performance.now() - started) / 1000)
          throw error
        }
      }
    }
    return statement
  }) as SqliteDatabase['prepare']
  return db
}
