import { createApiKey, listApiKeys, revokeApiKey } from '../../lib/api-key-admin.js'
import { SCOPES } from '../../lib/scopes.js'
import type { ApiKeyRecord } from '../../lib/store/api-keys.js'
import { readDatabaseUrl, readSqlitePath } from '../env.js'
import { UsageError, parseCommandArgs } from '../usage.js'

const USAGE = `Usage:
  compute-worker keys create --scopes <scope,scope…> [--name <name>] [--rate-limit <per minute>] [--json]
  compute-worker keys list [--json]
  compute-worker keys revoke <id> [--json]

Keys live in the control-plane database (COMPUTE_WORKER_SQLITE_PATH, the server's own); a running
server sees a new or revoked key on its next request. Scopes: ${SCOPES.join(', ')}.
`

function out (text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n')
}

/** The database the server uses: PostgreSQL when named, else its SQLite file (an in-memory one would vanish with this command). */
function controlPlane (): { sqlitePath: string, database?: string } {
  const database = readDatabaseUrl()
  if (database !== undefined) return { sqlitePath: readSqlitePath(), database }
  const path = readSqlitePath()
  if (path === ':memory:' || path === '') {
    throw new UsageError('COMPUTE_WORKER_SQLITE_PATH is ":memory:": keys must go to the database file the server uses')
  }
  return { sqlitePath: path }
}

function publicRecord (record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    scopes: record.scopes,
    rateLimitPerMinute: record.rateLimitPerMinute,
    source: record.source,
    createdAt: record.createdAt,
    lastUsedAt: record.lastUsedAt,
    revokedAt: record.revokedAt
  }
}

function positiveInteger (flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`keys create: ${flag} must be a positive integer, got "${raw}"`)
  return Number(raw)
}

async function create (args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs('keys create', args, {
    scopes: { type: 'string', multiple: true },
    name: { type: 'string' },
    'rate-limit': { type: 'string' },
    json: { type: 'boolean' }
  })
  if (positionals.length > 0) throw new UsageError(`keys create: unexpected argument "${positionals[0]}"`)
  const scopes = ((values.scopes ?? []) as string[]).flatMap((list) => list.split(',')).map((s) => s.trim()).filter(Boolean)
  if (scopes.length === 0) throw new UsageError(`keys create: --scopes is required (${SCOPES.join(', ')})`)
  const { key, record } = await createApiKey({
    ...controlPlane(),
    scopes,
    name: values.name as string | undefined,
    rateLimitPerMinute: positiveInteger('--rate-limit', values['rate-limit'] as string | undefined)
  })
  if (values.json === true) {
    out(JSON.stringify({ key, ...publicRecord(record) }))
    return
  }
  // The key alone on stdout (for `$(…)`), the rest on stderr.
  out(key)
  process.stderr.write(`Created ${record.id}${record.name ? ` "${record.name}"` : ''} with ${record.scopes.join(', ')}` +
    `${record.rateLimitPerMinute ? `, ${record.rateLimitPerMinute} requests/minute` : ''}.\n` +
    'Store the key now: it is shown only this once.\n')
}

function table (rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n')
}

async function list (args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs('keys list', args, { json: { type: 'boolean' } })
  if (positionals.length > 0) throw new UsageError(`keys list: unexpected argument "${positionals[0]}"`)
  const records = await listApiKeys(controlPlane())
  if (values.json === true) {
    out(JSON.stringify(records.map(publicRecord)))
    return
  }
  if (records.length === 0) {
    out('No API keys. Create one: compute-worker keys create --scopes runs:read')
    return
  }
  out(table([
    ['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
    ...records.map((r) => [r.id, r.name ?? '-', r.scopes.join(',') || '-', r.createdAt, r.lastUsedAt ?? 'never', r.revokedAt ?? '-'])
  ]))
}

async function revoke (args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs('keys revoke', args, { json: { type: 'boolean' } })
  if (positionals.length !== 1) throw new UsageError('keys revoke: give exactly one key id (see: compute-worker keys list)')
  const { record, revokedNow } = await revokeApiKey({ ...controlPlane(), id: positionals[0] })
  if (values.json === true) {
    out(JSON.stringify({ ...publicRecord(record), revokedNow }))
    return
  }
  out(revokedNow
    ? `Revoked ${record.id}: refused from the next request on.`
    : `${record.id} was already revoked at ${record.revokedAt}.`)
}

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<void>> = { create, list, revoke }

/** `compute-worker keys create|list|revoke`: API keys without editing the environment. */
export async function keys (args: string[]): Promise<void> {
  const [name, ...rest] = args
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    if (name === undefined) throw new UsageError(`keys: missing subcommand\n\n${USAGE}`)
    out(USAGE)
    return
  }
  const subcommand = SUBCOMMANDS[name]
  if (subcommand === undefined) throw new UsageError(`keys: unknown subcommand "${name}"\n\n${USAGE}`)
  await subcommand(rest)
}
