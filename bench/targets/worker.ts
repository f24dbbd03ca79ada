/**
 * The subject: the worker as a library user starts it (startNodeComputeWorkerServer, no logger)
 * on world-local and SQLite in a temp dir (or world-postgres and the PostgreSQL control plane on
 * one database, when the benchmark says so: bench/world.ts), with one key of every scope and a
 * deployment activated. Queue deliveries do not run: only the request path is measured.
 * Prints `{ url, key, deploymentId }` on its first line; SIGTERM closes it and removes the dir.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SCOPES } from '../../lib/scopes.js'
import { startNodeComputeWorkerServer } from '../../server.js'
import { BENCH_KEY, BENCH_MANIFEST, benchTargetWorld } from '../world.js'

const dir = await mkdtemp(join(tmpdir(), 'cw-bench-worker-'))
const { world, postgresUrl } = benchTargetWorld(join(dir, 'world'))
const server = await startNodeComputeWorkerServer({
  world,
  ...(postgresUrl !== undefined ? { database: postgresUrl } : {}),
  port: 0,
  sqlitePath: join(dir, 'worker.db'),
  artifactDir: join(dir, 'artifacts'),
  seedApiKeys: [{ key: BENCH_KEY, scopes: [...SCOPES], rateLimitPerMinute: 1_000_000_000 }]
})
const headers = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }
const created = await (await fetch(`${server.url}/v1/deployments`, { method: 'POST', headers, body: JSON.stringify({ manifest: BENCH_MANIFEST }) })).json() as { id: string }
const activated = await fetch(`${server.url}/v1/deployments/${created.id}/activate`, { method: 'POST', headers: { authorization: headers.authorization } })
if (!activated.ok) throw new Error(`activation failed: ${await activated.text()}`)

console.log(JSON.stringify({ url: server.url, key: BENCH_KEY, deploymentId: created.id }))
process.once('SIGTERM', () => {
  void server.close().then(() => rm(dir, { recursive: true, force: true })).then(() => process.exit(0))
})
