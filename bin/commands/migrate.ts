import { existsSync } from 'node:fs'
import { copyControlPlane, type ControlPlaneCopy } from '../../lib/store/copy.js'
import { openControlPlane } from '../../lib/store/index.js'
import { SqliteControlPlane } from '../../lib/store/sqlite/index.js'
import { POSTGRES_WORLD, migratePostgresWorld, redactConnectionString } from '../../lib/world/postgres.js'
import { readStandaloneSettings } from '../env.js'
import { UsageError, parseCommandArgs } from '../usage.js'

/**
 * `compute-worker migrate [--json] [--from-sqlite <path> [--artifacts <dir>]]`: brings the control
 * plane's schema (SQLite, or PostgreSQL's `compute_worker`) and, on world-postgres, the World's
 * schema up to date, then exits. Safe to run again, and while workers run. With `--from-sqlite`
 * it then copies a single worker's control plane into the PostgreSQL one, idempotently.
 */
export async function migrate (args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs('migrate', args, {
    json: { type: 'boolean' },
    'from-sqlite': { type: 'string' },
    artifacts: { type: 'string' }
  })
  if (positionals.length > 0) throw new UsageError(`migrate: unexpected argument "${positionals[0]}"`)
  const settings = readStandaloneSettings()
  const { sqlitePath, database, artifactDir } = settings.options as { sqlitePath: string, database?: string, artifactDir: string }
  const fromSqlite = values['from-sqlite'] as string | undefined
  if (values.artifacts !== undefined && fromSqlite === undefined) throw new UsageError('migrate: --artifacts goes with --from-sqlite <path>')
  if (fromSqlite !== undefined) {
    if (database === undefined) {
      throw new UsageError('migrate --from-sqlite: the control plane is not in PostgreSQL: set COMPUTE_WORKER_DATABASE_URL (or run on world-postgres)')
    }
    if (!existsSync(fromSqlite)) throw new UsageError(`migrate --from-sqlite: no such file ${fromSqlite}`)
  }

  const controlPlane = await openControlPlane({ sqlitePath, database, artifactDir })
  let copy: ControlPlaneCopy | undefined
  let schemaVersion: number
  try {
    schemaVersion = await controlPlane.schemaVersion()
    if (fromSqlite !== undefined) {
      const source = new SqliteControlPlane(fromSqlite, (values.artifacts as string | undefined) ?? artifactDir)
      try {
        copy = await copyControlPlane(source, controlPlane)
      } finally {
        await source.close()
      }
    }
  } finally {
    await controlPlane.close()
  }

  const world = settings.postgres === undefined
    ? { target: settings.targetWorld, migrated: false as const }
    : {
        target: POSTGRES_WORLD,
        migrated: true as const,
        database: redactConnectionString(settings.postgres.connectionString),
        ...await migratePostgresWorld(settings.postgres.connectionString)
      }

  const where = controlPlane.kind === 'postgres' ? { kind: 'postgres', database: controlPlane.location } : { kind: 'sqlite', sqlitePath }
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ controlPlane: { ...where, schemaVersion }, world, ...(copy !== undefined ? { copied: copy } : {}) }) + '\n')
    return
  }
  process.stdout.write(`control plane: ${controlPlane.location} at schema version ${schemaVersion}\n`)
  process.stdout.write(world.migrated
    ? `World ${world.target}: ${world.applied} migration${world.applied === 1 ? '' : 's'} applied, ${world.total} in all (${world.database})\n`
    : `World ${world.target}: no schema to set up\n`)
  if (copy !== undefined) {
    const line = (what: string, count: { found: number, copied: number }) => `  ${what}: ${count.copied} copied of ${count.found}\n`
    process.stdout.write(`copied from ${fromSqlite}:\n` +
      line('API keys', copy.apiKeys) + line('deployments', copy.deployments) +
      line('idempotency records', copy.idempotencyRecords) + line('audit rows', copy.auditRows) +
      `  active deployment: ${copy.activeDeployment.target ?? 'none'}${copy.activeDeployment.target !== copy.activeDeployment.source ? ` (the source's, ${copy.activeDeployment.source ?? 'none'}, was not copied over it)` : ''}\n`)
  }
}
