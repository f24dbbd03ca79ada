import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../../bin/net.js'
import { KEYS, bearer } from '../helper.js'
import { freshDatabase, needsPostgres, postgresWorkerEnv, query, startTcpProxy } from '../postgres.js'
import { runBin, startStandalone } from '../standalone.js'

// These tests run no code: no executor.
async function postgresEnv (t: TestContext, url: string): Promise<Record<string, string>> {
  return await postgresWorkerEnv(t, url, { COMPUTE_WORKER_COMPUTE: 'none' })
}

async function getJson (url: string): Promise<{ status: number, body: any }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.json() }
}

test('the standalone server on world-postgres sets up the schema at start-up and answers health 200', needsPostgres, async (t) => {
  const url = await freshDatabase(t)
  const worker = await startStandalone(t, await postgresEnv(t, url))

  const health = await getJson(`${worker.url}/v1/health`)
  assert.equal(health.status, 200, JSON.stringify(health.body))
  assert.equal(health.body.world.target, '@workflow/world-postgres')
  assert.equal(health.body.world.status, 'ok')
  const ready = await getJson(`${worker.url}/v1/health/ready`)
  assert.equal(ready.status, 200, JSON.stringify(ready.body))
  assert.equal(ready.body.checks.world.status, 'ok')

  const schemas = (await query<{ nspname: string }>(url, 'SELECT nspname FROM pg_namespace')).map((row) => row.nspname)
  assert.ok(schemas.includes('workflow'), 'world-postgres tables')
  assert.ok(schemas.includes('graphile_worker'), 'its queue')
  const [{ count }] = await query<{ count: string }>(url, 'SELECT count(*) FROM workflow.workflow_runs')
  assert.equal(count, '0')

  // Keys and the rest of the control plane work the same on this World.
  const keyed = await fetch(`${worker.url}/v1/unknown-route`, { headers: bearer(KEYS.admin) })
  assert.equal(keyed.status, 404)

  // graphile-worker handles SIGTERM itself and re-raises it: the shutdown must still be clean.
  worker.child.kill('SIGTERM')
  assert.equal((await worker.exited).code, 0, worker.lines.join('\n'))
})

test('compute-worker migrate sets up the World schema and is idempotent', needsPostgres, async (t) => {
  const url = await freshDatabase(t)
  const env = await postgresEnv(t, url)
  const first = await runBin(env, ['migrate', '--json'])
  assert.equal(first.code, 0, first.output)
  const applied = JSON.parse(first.output)
  assert.equal(applied.world.target, '@workflow/world-postgres')
  assert.ok(applied.world.applied > 0)
  assert.equal(applied.world.applied, applied.world.total)
  // The control plane goes to the World's database, in a schema of its own.
  assert.deepEqual([applied.controlPlane.kind, applied.controlPlane.database], ['postgres', url])
  assert.ok(applied.controlPlane.schemaVersion >= 1)
  assert.ok((await query(url, 'SELECT 1 FROM compute_worker.api_keys')).length === 0)

  const second = await runBin(env, ['migrate'])
  assert.equal(second.code, 0, second.output)
  assert.match(second.output, new RegExp(`0 migrations applied, ${applied.world.total} in all`))
  assert.match(second.output, /control plane: postgres:\/\/.* at schema version \d+/)

  // A migrated database starts a server as well as a fresh one.
  const worker = await startStandalone(t, env)
  assert.equal((await fetch(`${worker.url}/v1/health/ready`)).status, 200)
})

test('two workers starting at once on one fresh database both set the schema up and run', needsPostgres, async (t) => {
  const url = await freshDatabase(t)
  const [a, b] = await Promise.all([
    postgresEnv(t, url).then((env) => startStandalone(t, env)),
    postgresEnv(t, url).then((env) => startStandalone(t, env))
  ])
  for (const worker of [a, b]) {
    const ready = await getJson(`${worker.url}/v1/health/ready`)
    assert.equal(ready.status, 200, JSON.stringify(ready.body))
  }
})

test('start-up fails fast, naming the database without its password, when PostgreSQL is unreachable', async (t) => {
  const closedPort = await freePort('127.0.0.1')
  const env = await postgresEnv(t, `postgres://worker:s3cret-password@127.0.0.1:${closedPort}/nowhere`)
  const { code, output } = await runBin(env)
  assert.equal(code, 1)
  assert.match(output, new RegExp(`could not set up the World's schema in PostgreSQL at postgres://worker:\\*\\*\\*@127\\.0\\.0\\.1:${closedPort}/nowhere: .*ECONNREFUSED`))
  assert.equal(output.includes('s3cret-password'), false)
  assert.doesNotMatch(output, /\n\s+at /, 'no stack trace')
})

test('world-postgres without WORKFLOW_POSTGRES_URL stops start-up with a message naming the variable', async (t) => {
  const env = await postgresEnv(t, '')
  const { code, output } = await runBin(env)
  assert.equal(code, 1)
  assert.match(output, /WORKFLOW_POSTGRES_URL is required with WORKFLOW_TARGET_WORLD=@workflow\/world-postgres/)
})

test('readiness is 503 while PostgreSQL does not answer and 200 again once it does; liveness stays 200', needsPostgres, async (t) => {
  const url = await freshDatabase(t)
  const proxy = await startTcpProxy(t, url)
  const worker = await startStandalone(t, await postgresEnv(t, proxy.url))
  assert.equal((await fetch(`${worker.url}/v1/health/ready`)).status, 200)
  await sleep(1_100) // past the probe's one-second reuse

  proxy.pause()
  const notReady = await getJson(`${worker.url}/v1/health/ready`)
  assert.equal(notReady.status, 503)
  assert.equal(notReady.body.code, 'not_ready')
  assert.equal(notReady.body.checks.world.status, 'unavailable')
  assert.match(notReady.body.checks.world.error, /no answer within/)
  // The control plane is in the same database.
  assert.deepEqual([notReady.body.checks.database.status, notReady.body.checks.database.kind], ['unavailable', 'postgres'])
  assert.match(notReady.body.checks.database.error, /no answer within/)
  assert.equal((await fetch(`${worker.url}/v1/health`)).status, 503)
  assert.equal((await fetch(`${worker.url}/v1/health/live`)).status, 200)

  proxy.resume()
  let status = 0
  for (let i = 0; i < 40 && status !== 200; i++) {
    await sleep(250)
    status = (await fetch(`${worker.url}/v1/health/ready`)).status
  }
  assert.equal(status, 200, 'ready again once PostgreSQL answers')
})

test('pooled connections that PostgreSQL terminates are replaced; the worker stays up and ready', needsPostgres, async (t) => {
  const url = await freshDatabase(t)
  const worker = await startStandalone(t, await postgresEnv(t, url))
  assert.equal((await fetch(`${worker.url}/v1/health/ready`)).status, 200)
  // The queue runner must be up first: graphile-worker treats a connection lost during its own
  // start-up as fatal (and so does the worker then, as for the LISTEN connection below).
  for (let i = 0; i < 40; i++) {
    const listening = await query(url, 'SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE \'%LISTEN "jobs:insert"%\'')
    if (listening.length > 0) break
    await sleep(250)
  }
  await sleep(500)
  // Every connection of the worker but the streams' LISTEN one, which world-postgres cannot replace.
  const terminated = await query<{ pid: number }>(url, `WITH targets AS MATERIALIZED (
      SELECT pid FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND query NOT LIKE 'LISTEN workflow_event_chunk%')
    SELECT pid FROM targets WHERE pg_terminate_backend(pid)`)
  assert.ok(terminated.length > 0)
  await sleep(1_100) // past the probe's one-second reuse
  let status = 0
  for (let i = 0; i < 20 && status !== 200; i++) {
    status = await fetch(`${worker.url}/v1/health/ready`).then((res) => res.status, () => -1)
    if (status !== 200) await sleep(250)
  }
  assert.equal(status, 200, worker.lines.join('\n'))
  assert.equal(worker.child.exitCode, null, 'still running')
  assert.ok(worker.lines.some((line) => /a World database connection failed/.test(line)), 'idle pooled connections were among them')
})

test('losing the PostgreSQL connections shuts the worker down with exit code 1 (world-postgres cannot re-listen)', needsPostgres, async (t) => {
  const url = await freshDatabase(t)
  const proxy = await startTcpProxy(t, url)
  const worker = await startStandalone(t, await postgresEnv(t, proxy.url))
  assert.equal((await fetch(`${worker.url}/v1/health/ready`)).status, 200)
  proxy.cut()
  const { code } = await worker.exited
  assert.equal(code, 1)
  assert.ok(worker.lines.some((line) => /shutting down after an error/.test(line)), worker.lines.join('\n'))
})
