import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createInProcessCompute } from '../../lib/compute/index.js'
import pg from 'pg'
import { openControlPlane } from '../../lib/store/index.js'
import { PostgresRateLimits } from '../../lib/store/postgres/rate-limits.js'
import type { PostgresControlPlane } from '../../lib/store/postgres/index.js'
import { KEYS, bearer, build, tempDir } from '../helper.js'
import { freshDatabase, needsPostgres, query, startTcpProxy } from '../postgres.js'
import { deployFixture, triggerRun, waitForRun } from '../public-lane.js'
import { runBin } from '../standalone.js'

const finished = (run: { status: string }) => ['completed', 'failed', 'cancelled'].includes(run.status)

test('workers opening one fresh database at once all find the control plane set up, once', needsPostgres, async (t) => {
  const database = await freshDatabase(t)
  const dir = await tempDir(t)
  const opened = await Promise.all(Array.from({ length: 4 }, async (_, i) =>
    await openControlPlane({ sqlitePath: join(dir, `unused-${i}.db`), database, artifactDir: join(dir, `artifacts-${i}`) })))
  t.after(async () => { for (const controlPlane of opened) await controlPlane.close() })
  const versions = await Promise.all(opened.map(async (controlPlane) => await controlPlane.schemaVersion()))
  assert.equal(new Set(versions).size, 1)
  assert.deepEqual(await query(database, 'SELECT version FROM compute_worker.schema_migrations ORDER BY version'),
    Array.from({ length: versions[0] }, (_, i) => ({ version: i + 1 })))
  assert.deepEqual(opened.map((controlPlane) => controlPlane.kind), ['postgres', 'postgres', 'postgres', 'postgres'])
})

test('an unreachable control-plane database fails the start, naming it without its password', async (t) => {
  const dir = await tempDir(t)
  await assert.rejects(openControlPlane({ sqlitePath: join(dir, 'x.db'), database: 'postgres://worker:hunter2@127.0.0.1:1/control', artifactDir: dir }), (error: Error) => {
    assert.equal(error.name, 'ControlPlaneSetupError')
    assert.match(error.message, /postgres:\/\/worker:\*\*\*@127\.0\.0\.1:1\/control/)
    assert.doesNotMatch(error.message, /hunter2/)
    return true
  })
  const started = await runBin({ COMPUTE_WORKER_DATABASE_URL: 'postgres://worker:hunter2@127.0.0.1:1/control', COMPUTE_WORKER_SQLITE_PATH: join(dir, 'w.db'), WORKFLOW_LOCAL_DATA_DIR: join(dir, 'world') })
  assert.equal(started.code, 1)
  assert.match(started.output, /compute-worker: could not open the control plane in PostgreSQL at postgres:\/\/worker:\*\*\*@127\.0\.0\.1:1\/control/)
  assert.doesNotMatch(started.output, /hunter2/)
  const badUrl = await runBin({ COMPUTE_WORKER_DATABASE_URL: 'mysql://x', WORKFLOW_LOCAL_DATA_DIR: join(dir, 'world') })
  assert.equal(badUrl.code, 1)
  assert.match(badUrl.output, /COMPUTE_WORKER_DATABASE_URL must be a postgres:\/\/ URL/)
})

test('readiness names the PostgreSQL control plane; while it does not answer, readiness and requests that need it get 503 not_ready', needsPostgres, async (t) => {
  const proxy = await startTcpProxy(t, await freshDatabase(t))
  const { app } = await build(t, { database: proxy.url })
  const ready = await app.inject({ url: '/v1/health/ready' })
  assert.equal(ready.statusCode, 200, ready.body)
  assert.equal(ready.json().checks.database.kind, 'postgres')
  assert.equal((await app.inject({ url: '/v1/deployments', headers: bearer(KEYS.deployRead) })).statusCode, 200)

  proxy.cut()
  // Past the probe's one-second reuse, without waiting for it.
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() })
  t.mock.timers.tick(1_100)
  const down = await app.inject({ url: '/v1/health/ready' })
  assert.equal(down.statusCode, 503)
  assert.deepEqual([down.json().code, down.json().checks.database.status], ['not_ready', 'unavailable'])
  const request = await app.inject({ url: '/v1/deployments', headers: bearer(KEYS.deployRead) })
  assert.equal(request.statusCode, 503, request.body)
  assert.equal(request.json().code, 'not_ready')
  assert.equal((await app.inject({ url: '/v1/health/live' })).statusCode, 200)
})

test('a deployment uploaded to one worker runs on another, from its own verified copy of the files', needsPostgres, async (t) => {
  const database = await freshDatabase(t)
  const a = await build(t, { database })
  const b = await build(t, { database, compute: createInProcessCompute() })
  const { id } = await deployFixture(a.app)

  // B has never seen the files: its executor fetches them into its own directory when the run needs them.
  const res = await triggerRun(b.app, { workflowName: 'sum', input: [2, 3] })
  assert.equal(res.statusCode, 202, res.body)
  assert.equal(res.json().deploymentId, id)
  const run = await waitForRun(b.app, res.json().runId, finished)
  assert.deepEqual([run.status, run.output], ['completed', { total: 5, variant: 'A' }])
  const cached = join(b.dir, 'artifacts', id, 'flow.js')
  const original = await readFile(cached, 'utf8')

  // A damaged copy is not loaded: after a restart of B it is fetched again first.
  await b.app.close()
  await writeFile(cached, 'throw new Error("a corrupted cache file")')
  const again = await build(t, { database, compute: createInProcessCompute(), artifactDir: join(b.dir, 'artifacts') })
  const rerun = await triggerRun(again.app, { workflowName: 'sum', input: [4, 5] })
  assert.equal(rerun.statusCode, 202, rerun.body)
  const done = await waitForRun(again.app, rerun.json().runId, finished)
  assert.deepEqual([done.status, done.output], ['completed', { total: 9, variant: 'A' }])
  assert.equal(await readFile(cached, 'utf8'), original)
})

test('a claim whose worker is gone is taken over at once by another worker; a live worker\'s claim is waited for', needsPostgres, async (t) => {
  const database = await freshDatabase(t)
  const dir = await tempDir(t)
  const open = async (name: string): Promise<PostgresControlPlane> =>
    await openControlPlane({ sqlitePath: join(dir, `${name}.db`), database, artifactDir: join(dir, name) }) as PostgresControlPlane
  const [a, b] = [await open('a'), await open('b')]
  t.after(async () => { await a.close(); await b.close() })
  const now = Date.now()
  const request = (proposedReference: string) => ({
    id: { owner: 'key_x', scope: 'POST /v1/runs', key: 'k1' }, fingerprint: 'f', proposedReference, now, leaseMs: 30_000, retentionMs: 60_000
  })

  const claimed = await a.idempotency.reserve(request('run_a'))
  assert.equal(claimed.kind, 'claimed')
  assert.equal((await b.idempotency.reserve(request('run_b'))).kind, 'in_progress', 'A is alive: its lease holds')

  // What a SIGKILL does, as the database sees it: A's connections end and its session lock is freed.
  await a.presence.close()
  const takeover = await b.idempotency.reserve(request('run_b'))
  assert.equal(takeover.kind, 'claimed')
  assert.deepEqual([takeover.kind === 'claimed' && takeover.takeover, takeover.kind === 'claimed' && takeover.reference], [true, 'run_a'])
  assert.ok(takeover.kind === 'claimed' && claimed.kind === 'claimed' && takeover.lease > claimed.lease, 'a fencing lease above the old one')
  assert.equal((await a.idempotency.reserve(request('run_a'))).kind, 'in_progress', 'B is alive: its lease holds')
  assert.equal(claimed.kind === 'claimed' && await a.idempotency.complete(request('').id, claimed.lease, 202, '{}', now), false, 'the old claim no longer lands')
})

test('the shared rate limit across workers: no place given twice, never more than the limit, refusals without asking once full', needsPostgres, async (t) => {
  const database = await freshDatabase(t)
  const dir = await tempDir(t)
  const [a, b] = await Promise.all([0, 1].map(async (i) =>
    await openControlPlane({ sqlitePath: join(dir, `unused-${i}.db`), database, artifactDir: join(dir, `artifacts-${i}`) })))
  t.after(async () => { await a.close(); await b.close() })
  const countOf = async (key: string) => (await query(database, `SELECT count FROM compute_worker.rate_limit_windows WHERE key = '${key}'`))[0]?.count

  // 150 hits at once, alternately on each worker, limit 100.
  const burst = await Promise.all(Array.from({ length: 150 }, async (_, i) => await (i % 2 === 0 ? a : b).rateLimits!.hit('key:burst', 60_000, 100)))
  const accepted = burst.map((window) => window.current).filter((place) => place <= 100)
  assert.equal(new Set(accepted).size, accepted.length, 'no place given twice')
  assert.ok(accepted.length <= 100 && accepted.length >= 100 - 2 * Math.floor(100 / 16), `${accepted.length} accepted: at most a block short per worker`)
  assert.ok(burst.every((window) => window.ttl > 0 && window.ttl <= 60_000))

  // Requests that keep coming to both workers use every place: exactly the limit is accepted.
  const alternating = []
  for (let i = 0; i < 40; i++) alternating.push(await (i % 2 === 0 ? a : b).rateLimits!.hit('key:alternating', 60_000, 20))
  assert.deepEqual(alternating.filter((window) => window.current <= 20).map((window) => window.current), Array.from({ length: 20 }, (_, i) => i + 1))

  // One worker: the limit exactly; once it holds the window's last place, the rest are refused without a round trip.
  const one = []
  for (let i = 0; i < 15; i++) one.push((await a.rateLimits!.hit('key:one', 60_000, 10)).current)
  assert.deepEqual(one, [...Array.from({ length: 10 }, (_, i) => i + 1), 11, 11, 11, 11, 11])
  assert.equal(await countOf('key:one'), 10, 'the refusals asked nothing')
  assert.equal((await a.rateLimits!.hit('key:other', 60_000, 10)).current, 1, 'keys count apart')

  // A worker keeps the blocks of so many keys: a key it forgot starts a new block (its unused places lost).
  const pool = new pg.Pool({ connectionString: database })
  try {
    const few = new PostgresRateLimits(pool, 2)
    assert.equal((await few.hit('key:f1', 60_000, 1600)).current, 1, 'a block of 100 reserved')
    await few.hit('key:f2', 60_000, 1600)
    await few.hit('key:f3', 60_000, 1600)
    assert.equal((await few.hit('key:f1', 60_000, 1600)).current, 101, 'forgotten: a new block after the first')
  } finally {
    await pool.end()
  }

  // A window of 1 ms is over by the next hit: places start at 1 again.
  await a.rateLimits!.hit('key:short', 1, 1000)
  await new Promise((resolve) => setTimeout(resolve, 5))
  assert.equal((await a.rateLimits!.hit('key:short', 1, 1000)).current, 1)
})
