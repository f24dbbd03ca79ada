import { openDatabase } from '../../lib/store/database.js'
import { POSTGRES_WORLD, migratePostgresWorld, redactConnectionString } from '../../lib/world/postgres.js'
import { readStandaloneSettings } from '../env.js'
import { UsageError, parseCommandArgs } from '../usage.js'

/**
 * `compute-worker migrate [--json]`: brings the control-plane SQLite schema and, on world-postgres,
 * the World's PostgreSQL schema up to date, then exits. Safe to run again, and while workers run.
 */
export async function migrate (args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs('migrate', args, { json: { type: 'boolean' } })
  if (positionals.length > 0) throw new UsageError(`migrate: unexpected argument "${positionals[0]}"`)
  const settings = readStandaloneSettings()
  const sqlitePath = settings.options.sqlitePath as string

  const db = openDatabase(sqlitePath)
  const controlPlaneVersion = db.pragma('user_version', { simple: true }) as number
  db.close()

  const world = settings.postgres === undefined
    ? { target: settings.targetWorld, migrated: false as const }
    : {
        target: POSTGRES_WORLD,
        migrated: true as const,
        database: redactConnectionString(settings.postgres.connectionString),
        ...await migratePostgresWorld(settings.postgres.connectionString)
      }

  if (values.json === true) {
    process.stdout.write(JSON.stringify({ controlPlane: { sqlitePath, schemaVersion: controlPlaneVersion }, world }) + '\n')
    return
  }
  process.stdout.write(`control plane: ${sqlitePath} at schema version ${controlPlaneVersion}\n`)
  process.stdout.write(world.migrated
    ? `World ${world.target}: ${world.applied} migration${world.applied === 1 ? '' : 's'} applied, ${world.total} in all (${world.database})\n`
    : `World ${world.target}: no schema to set up\n`)
}
