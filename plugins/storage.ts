import fp from 'fastify-plugin'
import { measureDatabase } from '../lib/observability/measured-database.js'
import type { SeedApiKey } from '../lib/options.js'
import { ApiKeyStore } from '../lib/store/api-keys.js'
import { AuditLog } from '../lib/store/audit-log.js'
import { openDatabase, type SqliteDatabase } from '../lib/store/database.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The control-plane SQLite database, migrated. Stores take it in their constructor. */
    controlDb: SqliteDatabase
    apiKeys: ApiKeyStore
    auditLog: AuditLog
  }
}

export interface StorageOptions {
  sqlitePath: string
  seedApiKeys: SeedApiKey[]
}

export default fp<StorageOptions>(async function storagePlugin (fastify, opts) {
  const opened = openDatabase(opts.sqlitePath)
  const db = fastify.metrics === undefined ? opened : measureDatabase(opened, fastify.metrics)
  fastify.addHook('onClose', async () => { db.close() })

  const apiKeys = new ApiKeyStore(db)
  apiKeys.seed(opts.seedApiKeys)

  fastify.decorate('controlDb', db)
  fastify.decorate('apiKeys', apiKeys)
  fastify.decorate('auditLog', new AuditLog(db))
}, { name: 'compute-worker-storage', fastify: '5.x' })
